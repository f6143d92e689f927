# Reference values for test/fit/interval.test.ts: Student t quantiles and CDF values by mpmath at
# 40 digits, independent of stages/stats/t-quantile.ts (mpmath's own incomplete beta, inverted by
# 200 bisection steps at 40 digits). Prints the TypeScript table the test holds.
#   python3 test/fit/t_reference.py   (needs mpmath: pip install mpmath, or python3-mpmath)
import mpmath as mp

mp.mp.dps = 40
HALF = mp.mpf(1) / 2


def cdf(t, df):
    df, t = mp.mpf(df), mp.mpf(t)
    tail = mp.betainc(df / 2, HALF, 0, df / (df + t * t), regularized=True) / 2
    return 1 - tail if t >= 0 else tail


def quantile(p, df):
    p, lo, hi = mp.mpf(p), mp.mpf(0), mp.mpf(1)
    while cdf(hi, df) < p:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


print('// [df, p, quantile]')
for df in [1, 2, 3, 4, 5, 6, 9, 14, 29, 99, 999]:
    row = ', '.join(f"[{df}, {p}, {mp.nstr(quantile(p, df), 17)}]" for p in ['0.6', '0.9', '0.95', '0.975', '0.99', '0.995', '0.9995'])
    print(f'  {row},')
print('// [df, t, upper tail 1 - F(t)]')
for df in [1, 3, 9, 30]:
    row = ', '.join(f"[{df}, {t}, {mp.nstr(1 - cdf(t, df), 17)}]" for t in ['0.5', '2', '5', '20'])
    print(f'  {row},')
