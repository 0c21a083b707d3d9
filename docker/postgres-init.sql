-- Runs once, when the data directory is new (as the original's init script did): a second database for tests.
CREATE DATABASE test;
