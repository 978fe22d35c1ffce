/**
 * The environment variable through which the local server's bearer token reaches it.
 * Not argv: a process's command line is readable by every user of the machine
 * (/proc/PID/cmdline), its environment only by its owner (/proc/PID/environ is mode 0400).
 * A module of its own so the extension side can import it without the server.
 */
export const TOKEN_ENV = 'DICOMWEB_LOCAL_SERVER_TOKEN';
