// What `npm start` and `npm test` need to know about the machine they run on, kept pure so
// the unit tests cover every platform's branch on any one machine (test/unit/platform.test.ts).
import { existsSync, statSync } from 'node:fs';
import { delimiter as hostDelimiter, join } from 'node:path';

/**
 * The full path of a command found on PATH, or undefined; like `command -v` on POSIX and
 * `where` on Windows (PATHEXT: `code` is `code.cmd` there). No shell is started.
 */
export function findOnPath(command, { platform = process.platform, env = process.env, exists = isFile } = {}) {
  const windows = platform === 'win32';
  const delimiter = windows ? ';' : platform === process.platform ? hostDelimiter : ':';
  const pathValue = (windows ? env.Path ?? env.PATH : env.PATH) ?? '';
  const extensions = windows ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean) : [''];
  for (const dir of pathValue.split(delimiter).filter(Boolean)) {
    for (const extension of extensions) {
      const candidate = windows ? `${dir.replace(/[\\/]+$/, '')}\\${command}${extension.toLowerCase()}` : join(dir, command);
      if (exists(candidate)) return candidate;
    }
  }
  return undefined;
}

function isFile(path) {
  try {
    return existsSync(path) && statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Windows runs `code.cmd` and `npm.cmd` only through a shell. */
export function needsShell(path, platform = process.platform) {
  return platform === 'win32' && /\.(cmd|bat)$/i.test(path);
}

/** One word for cmd.exe: in double quotes (a path's spaces), inner quotes doubled. */
export function quoteForCmd(word) {
  return `"${String(word).replace(/"/g, '""')}"`;
}

/** Where code-server (the browser VS Code the tests and `npm start --browser` use) can be set up. */
export function codeServerSupported(platform = process.platform, arch = process.arch) {
  return platform === 'linux' && arch === 'x64';
}

/** The one sentence `npm start` prints when it can open neither VS Code. */
export function noVsCodeHint(platform = process.platform, arch = process.arch) {
  const addCode =
    platform === 'darwin'
      ? "in VS Code run 'Shell Command: Install 'code' command in PATH'"
      : platform === 'win32'
        ? "reinstall VS Code with 'Add to PATH' ticked, or add its bin folder to PATH"
        : "install VS Code so its 'code' command is on the PATH";
  return `No desktop VS Code was found (its 'code' command is not on the PATH) and the browser VS Code (code-server) can only be set up here on linux-x64, not ${platform}-${arch}: ${addCode}, then run npm start again.`;
}
