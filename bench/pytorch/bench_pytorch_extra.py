"""PyTorch side of tensorgrad's workloads beyond DESIGN.md's list (no targets; shown as ratios
by bench/compare.py). Prints one JSON object of name: value, timed by bench_pytorch.py's rule.

- optimizer steps alone (`opt.step()`, gradients already set) on the MLP benchmark's
  parameters: Adam, AdamW, SGD with momentum 0.9 (PyTorch's default implementation of each);
- mlp_adam_step_ms: the MLP benchmark's training step with Adam instead of SGD."""
import json, time, torch
import torch.nn as nn

torch.manual_seed(0)


def bench(f, reps=5, warm=1):
    for _ in range(warm):
        f()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2]


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


res = {}
X = torch.randn(256, 784); Yl = torch.randint(0, 10, (256,))
model = mlp()
nn.functional.cross_entropy(model(X), Yl).backward()
for key, opt in [("adam_step_mlp_params_ms", torch.optim.Adam(model.parameters(), lr=1e-3)),
                 ("adamw_step_mlp_params_ms", torch.optim.AdamW(model.parameters(), lr=1e-3)),
                 ("sgd_momentum_step_mlp_params_ms", torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9))]:
    res[key] = bench(opt.step, reps=20, warm=3) * 1e3

model = mlp()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
def step():
    opt.zero_grad(); loss = nn.functional.cross_entropy(model(X), Yl); loss.backward(); opt.step()
res["mlp_adam_step_ms"] = bench(step, reps=20, warm=3) * 1e3
print(json.dumps(res))
