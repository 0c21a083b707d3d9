import type { UserRepository } from './user-repository.ts';
export type AdminSeedResult = 'created' | 'updated' | 'unchanged';
/**
 * Makes the configured admin exist, be an admin and have the configured password. Idempotent and safe for
 * processes starting together: the insert ignores a conflict and the loser then checks the winner's row.
 */
export declare function ensureAdmin(users: UserRepository, admin: {
    email: string;
    password: string;
}): Promise<AdminSeedResult>;
