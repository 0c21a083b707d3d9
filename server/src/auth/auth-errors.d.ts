import type { FieldErrors } from '@chat/contract';
/** An answer the client is meant to read: `{"valid": false, "data": <data>}` with this status. */
export declare class ApiError extends Error {
    readonly statusCode: number;
    readonly data: string | FieldErrors;
    readonly headers: Record<string, string>;
    constructor(statusCode: number, data: string | FieldErrors, headers?: Record<string, string>);
}
export declare const WRONG_CREDENTIALS = "Wrong email or password";
export declare const wrongCredentials: () => ApiError;
export declare const notLoggedIn: () => ApiError;
export declare const tooManyAttempts: (retryAfterSeconds: number) => ApiError;
export declare const invalidFields: (errors: FieldErrors) => ApiError;
export declare const emailTaken: () => ApiError;
