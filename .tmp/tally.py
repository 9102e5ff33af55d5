import json,sys
r=json.load(open(sys.argv[1]))
for f,d in r['files'].items():
    c={}
    for m in d['mutants']: c[m['status']]=c.get(m['status'],0)+1
    k=c.get('Killed',0)+c.get('Timeout',0); s=c.get('Survived',0); n=c.get('NoCoverage',0)
    tot=k+s+n
    print(f"{f}: {100*k/tot if tot else 0:.1f}% ({k}/{tot}) covered {100*k/(k+s) if k+s else 0:.1f}%", c)
