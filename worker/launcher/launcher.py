#!/usr/bin/env python3
"""Tileflow's process launcher: a small long-lived helper that starts task scripts for the worker.

Forking the worker's large Node process costs ~3 ms a task; posix_spawn from this small process costs a fraction of
that. It also gives what Node cannot: the exit status with the rusage of the script and every descendant it waited
for (CPU seconds, peak RSS), from wait4.

Protocol: one JSON object per line on stdin, one per line on stdout.
  in:  {"op": "spawn", "id": ID, "argv": [...], "env": {...}, "cwd": DIR, "stdout": FILE, "stderr": FILE}
       {"op": "kill", "id": ID, "signal": 15}
  out: {"ev": "spawned", "id": ID, "pid": PID}
       {"ev": "error", "id": ID, "errno": N, "message": "..."}          (could not start it)
       {"ev": "exit", "id": ID, "code": N|null, "signal": N|null, "utime": S, "stime": S, "maxrss_kb": N}
Every script runs in its own session (setsid), so kill reaches its whole process group.
"""
import json
import os
import signal
import sys
import threading

lock = threading.Lock()
pids = {}  # id -> pid
ids = {}  # pid -> id
out = sys.stdout


def emit(obj):
    line = json.dumps(obj, separators=(",", ":")) + "\n"
    with lock:
        out.write(line)
        out.flush()


def spawn(req):
    rid = req["id"]
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, req["stdout"], flags, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, req["stderr"], flags, 0o644),
    ]
    env = dict(os.environ)
    env.update(req.get("env") or {})
    argv = req["argv"]
    cwd = req.get("cwd") or None
    # One lock around spawn and bookkeeping: the reaper takes the same lock before it looks a pid up, so a script
    # that exits at once is still matched to its id. posix_spawn has no cwd argument before Python 3.13, so the
    # parent switches folder for the call (spawns are serialized by the single reader thread anyway).
    with lock:
        prev = os.getcwd()
        try:
            if cwd:
                os.chdir(cwd)
            pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True)
        except OSError as e:
            out.write(json.dumps({"ev": "error", "id": rid, "errno": e.errno,
                                  "message": f"{e.strerror}: {e.filename or argv[0]}"}) + "\n")
            out.flush()
            return
        finally:
            if cwd:
                os.chdir(prev)
        pids[rid] = pid
        ids[pid] = rid
        out.write(json.dumps({"ev": "spawned", "id": rid, "pid": pid}, separators=(",", ":")) + "\n")
        out.flush()
    reaper_wake.set()


def kill(req):
    with lock:
        pid = pids.get(req["id"])
    if pid is None:
        return
    sig = int(req.get("signal", signal.SIGTERM))
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


reaper_wake = threading.Event()


def reaper():
    while True:
        try:
            pid, status, ru = os.wait4(-1, 0)
        except ChildProcessError:
            reaper_wake.wait()
            reaper_wake.clear()
            continue
        with lock:
            rid = ids.pop(pid, None)
            if rid is not None:
                pids.pop(rid, None)
        if rid is None:
            continue
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        emit({"ev": "exit", "id": rid, "code": code, "signal": sig, "utime": ru.ru_utime, "stime": ru.ru_stime,
              "maxrss_kb": ru.ru_maxrss})


def main():
    threading.Thread(target=reaper, daemon=True).start()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError:
            continue
        op = req.get("op")
        if op == "spawn":
            spawn(req)
        elif op == "kill":
            kill(req)
    # stdin closed: the worker is gone. Leave running scripts alone (they are in their own sessions) and exit.


if __name__ == "__main__":
    main()
