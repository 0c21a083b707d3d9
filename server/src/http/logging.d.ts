import type { DestinationStream, LoggerOptions } from 'pino';
import type { Config } from '../config/config.ts';
export declare const redactUrl: (url: string) => string;
export declare function loggerOptions(config: Config, stream?: DestinationStream): LoggerOptions & {
    stream?: DestinationStream;
};
