import { type Credentials } from '@chat/contract';
import type { SessionStore } from '../sessions/session-store.ts';
import type { User, UserRepository } from '../users/user-repository.ts';
import type { LoginLimiter } from './login-limiter.ts';
/** Who may log in, and what a login or registration starts. */
export declare class AuthService {
    private readonly users;
    private readonly sessions;
    private readonly limiter;
    constructor(users: UserRepository, sessions: SessionStore, limiter: LoginLimiter);
    /** Returns a new session token. Unknown email and wrong password fail alike, in the same time. */
    login({ email, password }: Credentials, clientAddress: string): Promise<string>;
    register({ email, password }: Credentials): Promise<string>;
    profile(userId: string): Promise<User | undefined>;
}
