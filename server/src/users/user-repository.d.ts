import { type Transaction } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
export interface User {
    id: string;
    email: string;
    passwordHash: string;
    createdOn: Date;
    confirmed: boolean;
    admin: boolean;
}
type Executor = Db | Transaction<Database>;
/** The only module that reads or writes `users`. Emails compare regardless of case. */
export declare class UserRepository {
    private readonly db;
    constructor(db: Db);
    findByEmail(email: string, executor?: Executor): Promise<User | undefined>;
    findById(id: string, executor?: Executor): Promise<User | undefined>;
    /** undefined when the email is taken already (in any case). */
    insert(user: {
        email: string;
        passwordHash: string;
        admin?: boolean;
    }, executor?: Executor): Promise<User | undefined>;
    update(id: string, changes: {
        passwordHash?: string;
        admin?: boolean;
    }, executor?: Executor): Promise<void>;
}
export {};
