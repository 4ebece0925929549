#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal, as an operator at a terminal runs
it, and answers its questions.

usage: pty_answer.py [--before SHELL-COMMAND] LOG [PROMPT ANSWER]...
                     -- COMMAND [ARG]...

Each PROMPT (plain text) is awaited in turn in the command's output; when
it appears, ANSWER and a newline are typed. --before runs a shell command
(sh -c) once the first PROMPT has appeared, before its ANSWER: a fault to
inject while the command waits for the operator; it must succeed. Everything the terminal shows
goes to LOG. The exit status is the command's; 125 when it ended before
asking one of the PROMPTs (LOG's last line says which). SIGTERM is passed
on to the command.
"""
import os
import pty
import signal
import subprocess
import sys


def parse(argv):
    before = None
    if len(argv) > 2 and argv[1] == "--before":
        before, argv = argv[2], argv[:1] + argv[3:]
    if "--" not in argv or len(argv) < 3:
        sys.exit(__doc__.strip())
    sep = argv.index("--")
    pairs = argv[2:sep]
    if len(pairs) % 2:
        sys.exit("pty_answer.py: every PROMPT needs an ANSWER")
    qa = [(pairs[i].encode(), pairs[i + 1].encode()) for i in range(0, len(pairs), 2)]
    return before, argv[1], qa, argv[sep + 1:]


def main():
    before, log_path, qa, cmd = parse(sys.argv)
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGTERM))
    seen = b""
    with open(log_path, "wb") as log:
        while True:
            try:
                data = os.read(fd, 4096)
            except InterruptedError:
                continue
            except OSError:  # EIO: the command closed the terminal
                break
            if not data:
                break
            log.write(data)
            log.flush()
            if not qa:
                continue
            seen += data
            if qa[0][0] in seen:
                seen = seen[seen.index(qa[0][0]) + len(qa[0][0]):]
                if before is not None:
                    subprocess.run(["sh", "-c", before], check=True)
                    before = None
                os.write(fd, qa[0][1] + b"\n")
                qa.pop(0)
        _, status = os.waitpid(pid, 0)
        if qa:
            log.write(b"\npty_answer.py: the command never asked '%s'\n" % qa[0][0])
            sys.exit(125)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
