/** Sent in the User-Agent. A unit test keeps it equal to package.json's version. */
export const TOOL_NAME = 'pce-export';
export const TOOL_VERSION = '0.1.0';
