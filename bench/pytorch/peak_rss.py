"""Peak resident memory of one PyTorch workload, for comparison with `bench`'s
`<name>_peak_rss_mb` lines. Prints `name_peak_rss_mb value` and, since importing torch alone
takes a few hundred MB, also `name_import_rss_mb value` (the peak after `import torch`, before
the workload), so both absolute and workload-only memory can be compared.

Usage: python peak_rss.py domain_cubic_10000000
"""
import resource
import sys

import torch


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


WORKLOADS = {}


def workload(f):
    WORKLOADS[f.__name__] = f
    return f


@workload
def domain_cubic_10000000():
    x = torch.linspace(-10, 10, 10**7, requires_grad=True)
    Y = 10 * x**3
    Y.sum().backward()
    return x.grad


@workload
def domain_cubic_1000000():
    x = torch.linspace(-10, 10, 10**6, requires_grad=True)
    Y = 10 * x**3
    Y.sum().backward()
    return x.grad


name = sys.argv[1]
base = peak_mb()
WORKLOADS[name]()
print(f"{name}_import_rss_mb {base:.1f}")
print(f"{name}_peak_rss_mb {peak_mb():.1f}")
