"""Free loopback ports for the Python tests that start a real cluster
(the twin of tests/e2e/free_ports.mjs). Import it after putting this folder
on sys.path, relative to the importing script's __file__."""
import random
import socket


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_range(count):
    """`count` consecutive free ports below the kernel's ephemeral range
    (32768-60999): one free when checked there could be taken by an outgoing
    connection (or mpirun's own listeners) before the cluster binds it."""
    for _ in range(200):
        base = random.randint(20000, 32700 - count)
        if all(port_free(p) for p in range(base, base + count)):
            return base
    raise RuntimeError("no free ports")
