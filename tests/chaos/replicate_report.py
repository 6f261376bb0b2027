#!/usr/bin/env python3
"""Builds a long history from a saved raft_chaos report: COPIES runs one after
the other, each on keys of its own (k0 -> k0.c1, ...), with ids, times, values
and log indexes shifted so every copy stays what the real run was. Writes a
report.json that `raft_chaos --check` reads, to measure the checker on an
hour's worth of history without running for an hour.

Usage: tests/chaos/replicate_report.py IN OUT COPIES"""
import json
import sys


def read_report(path):
    """The report's summary (a dict) and its history, one JSON text an op."""
    summary, ops = [], []
    with open(path) as f:
        for line in f:
            if line.startswith(' "history": ['):
                break
            summary.append(line)
        for line in f:
            line = line.strip().rstrip(',')
            if line.startswith('{'):
                ops.append(line)
    return json.loads(''.join(summary).rstrip().rstrip(',') + '}'), ops


def shifted(op, copy, span_us, ids, indexes):
    """Op `op` as it is in copy number `copy` (0: unchanged)."""
    if copy == 0:
        return op
    op['key'] = f"{op['key']}.c{copy}"
    op['id'] += copy * ids
    op['invoke_us'] += copy * span_us
    op['complete_us'] += copy * span_us
    for field in ('value', 'expected'):
        if field in op:
            op[field] = f'{op[field]}.c{copy}'
    if isinstance(op.get('read'), str):
        op['read'] = f"{op['read']}.c{copy}"
    for field in ('index', 'applied'):
        if op.get(field):
            op[field] += copy * indexes
    return op


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
    head, ops = read_report(src)
    span_us = max(json.loads(o)['complete_us'] for o in ops) + 1_000_000
    ids = max(json.loads(o)['id'] for o in ops) + 1
    indexes = max(json.loads(o).get('index', 0) for o in ops) + 1
    for key in ('verdicts', 'lost_writes', 'stale_reads', 'self_check', 'check_seconds'):
        head.pop(key, None)  # they are about the one run
    finals, nemesis = {}, []
    for c in range(copies):
        for k, v in head['final_values'].items():
            finals[f'{k}.c{c}' if c else k] = f'{v}.c{c}' if c and v is not None else v
        for n in head['nemesis']:
            nemesis.append(dict(n, start_us=n['start_us'] + c * span_us,
                                end_us=n['end_us'] + c * span_us))
    head['final_values'], head['nemesis'] = finals, nemesis
    with open(dst, 'w') as out:
        out.write(json.dumps(head, indent=1)[:-2] + ',\n "history": [')
        separator = '\n  '
        for c in range(copies):
            for line in ops:
                op = shifted(json.loads(line), c, span_us, ids, indexes)
                out.write(separator + json.dumps(op, separators=(',', ':')))
                separator = ',\n  '
        out.write('\n ]\n}\n')


if __name__ == '__main__':
    main()
