import json,sys
r=json.load(open(sys.argv[1])); sub=sys.argv[2] if len(sys.argv)>2 else ''
statuses=set((sys.argv[3] if len(sys.argv)>3 else 'Survived,NoCoverage').split(','))
for f,d in r['files'].items():
    if sub not in f: continue
    lines=d['source'].split('\n')
    ms=[m for m in d['mutants'] if m['status'] in statuses]
    ms.sort(key=lambda m:(m['location']['start']['line'],m['location']['start']['column']))
    for m in ms:
        l=m['location']['start']['line']; c=m['location']['start']['column']
        print(f"{f.split('/')[-1]} {l}:{c} [{m['status']}] {m['mutatorName']}: {m.get('replacement','')[:120]!r}")
        print('    ', lines[l-1].strip()[:160])
