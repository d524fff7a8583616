import gzip,sys,collections
def cats(path):
    c=collections.Counter(); tot=0
    for line in gzip.open(path,'rt'):
        stack,n=line.rsplit(' ',1); n=int(n); tot+=n
        frames=stack.split(';')
        top=frames[-1]
        th=frames[0]
        if 'GC' in stack or 'SerialHeap' in stack or 'DefNew' in stack or 'Generation' in stack: k='gc'
        elif 'Compile' in stack or 'C2Compiler' in stack or 'C1' in stack: k='jit'
        elif any(f.endswith('_[k]') for f in frames):
            # kernel: which syscall
            k='kernel'
            for f in frames:
                if f.startswith('__x64_sys_'): k='k:'+f[10:-4]; break
            else:
                if any('irq' in f or 'softirq' in f for f in frames): k='k:irq/other'
        elif top.startswith('io/netty'): k='netty'
        elif top.startswith('io/vertx'): k='vertx'
        elif top.startswith('tether'): k='tether'
        elif top.startswith('java') or top.startswith('jdk') or top.startswith('sun'): k='jdk'
        elif top.startswith('com/github/benmanes'): k='caffeine'
        elif top.startswith('io/micrometer'): k='micrometer'
        else: k='other:'+top[:40]
        c[k]+=n
    return c,tot
a,ta=cats(sys.argv[1]); b,tb=cats(sys.argv[2]); ra=float(sys.argv[3]); rb=float(sys.argv[4])
# samples per 1000 requests (proportional to CPU per request)
keys=sorted(set(a)|set(b), key=lambda k:-(a[k]/ra-b[k]/rb))
print('%-30s %8s %8s %8s'%('category','A/kreq','B/kreq','diff'))
for k in keys[:30]:
    print('%-30s %8.1f %8.1f %8.1f'%(k, a[k]/ra*1000, b[k]/rb*1000, (a[k]/ra-b[k]/rb)*1000))
print('total', ta/ra*1000, tb/rb*1000)
