#!/usr/bin/env python3
# Top frames of an async-profiler collapsed-stacks file: self time, and inclusive time of our own frames.
# Usage: python3 bench/profile-top.py FILE.collapsed
import sys, collections
self_c=collections.Counter(); incl=collections.Counter(); total=0
for line in open(sys.argv[1]):
    stack, _, n = line.rstrip().rpartition(' ')
    n=int(n); total+=n
    frames=stack.split(';')
    self_c[frames[-1]]+=n
    for f in set(frames): incl[f]+=n
print("total samples", total)
print("--- self top 40")
for f,n in self_c.most_common(40): print(f"{100*n/total:5.1f}% {f[:150]}")
print("--- inclusive (dev.portcullis / netty handlers) top 60")
k=[(f,n) for f,n in incl.most_common() if 'portcullis' in f]
for f,n in k[:60]: print(f"{100*n/total:5.1f}% {f[:150]}")
