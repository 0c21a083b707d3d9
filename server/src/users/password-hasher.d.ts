export declare const ARGON2_OPTIONS: {
    readonly type: 2;
    readonly memoryCost: 19456;
    readonly timeCost: 2;
    readonly parallelism: 1;
};
export declare const hashPassword: (password: string) => Promise<string>;
export interface Verification {
    valid: boolean;
    /** the stored hash is passlib's or weaker than ARGON2_OPTIONS: store a new one now that we know the password */
    needsRehash: boolean;
}
export declare function verifyPassword(stored: string, password: string): Promise<Verification>;
/** passlib's "ab64": standard base64 with `.` for `+` and no padding. */
export declare const ab64Decode: (text: string) => Buffer<ArrayBuffer>;
/**
 * Verifies against a hash of a random password, so an unknown email costs the same time as a wrong password
 * (OWASP Authentication Cheat Sheet: no user enumeration through response times).
 */
export declare function burnVerificationTime(password: string): Promise<void>;
