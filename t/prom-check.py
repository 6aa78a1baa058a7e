# t/prom-check.py FILE EXPR...: each EXPR holds in the Prometheus text
# FILE, as python3-prometheus-client's parser (Debian's, /usr/bin/python3)
# reads it.  EXPR is "name{label=value,...} OP NUMBER" (labels sorted,
# "{}" for none; OP a Python comparison) or "type FAMILY TYPE".  Each
# failing EXPR is printed as a TAP comment; exit 1 if any failed.
import sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
got = {}
types = {}
for fam in text_string_to_metric_families(text):
    types[fam.name] = fam.type
    for s in fam.samples:
        key = s.name + "{" + ",".join("%s=%s" % kv
                                      for kv in sorted(s.labels.items())) + "}"
        got[key] = s.value
bad = 0
for e in sys.argv[2:]:
    if e.startswith("type "):
        _, name, t = e.split()
        if types.get(name) != t:
            print("# type of %s: %s, want %s" % (name, types.get(name), t))
            bad = 1
        continue
    key, op, want = e.rsplit(" ", 2)
    v = got.get(key)
    if v is None or not eval("%r %s %s" % (v, op, want)):
        print("# %s: got %r, want %s %s" % (key, v, op, want))
        bad = 1
sys.exit(bad)
