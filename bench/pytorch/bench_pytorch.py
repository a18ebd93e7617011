# Copied unchanged from the project reference (shared/reference/bench_pytorch.py) so the comparison
# runs from a clone; keep the two in sync.
"""PyTorch side of the benchmark workloads (see ../DESIGN.md). Prints one JSON object of name: value.
Run with the venv from setup-pytorch.sh: ~/.cache/tensorgrad-ref/bin/python bench_pytorch.py"""
import time, torch, json, sys
torch.manual_seed(0)
def bench(f, reps=5, warm=1):
    for _ in range(warm): f()
    ts=[]
    for _ in range(reps):
        t=time.perf_counter(); f(); ts.append(time.perf_counter()-t)
    ts.sort(); return ts[len(ts)//2]
res={}
# W1 scalar chain
def w1(n=1000):
    x=torch.tensor(3.0,requires_grad=True); y=x
    for i in range(n//2):
        y = y*1.0001 + 0.5
    y.backward()
    return x.grad
t=bench(w1); res["scalar_chain_1000ops_us_per_op"]=t/1000*1e6
# seed ex 2 full program
def w1b():
    x=torch.tensor(3.0,requires_grad=True); y=6*x**2+2*x+4; y.backward(); return x.grad
t=bench(lambda: [w1b() for _ in range(1000)]); res["seed_ex2_us"]=t/1000*1e6
# W2 domain derivative
for n in (10**6, 10**7):
    def w2():
        x=torch.linspace(-10,10,n,requires_grad=True); Y=10*x**3; y=Y.sum(); y.backward(); return x.grad
    res[f"domain_cubic_{n}_ms"]=bench(w2)*1e3
# W3 elementwise chain
xd=torch.randn(10**7)
def w3():
    x=xd.clone().requires_grad_(True); y=(x.sin()*x.exp()).tanh().sum(); y.backward(); return x.grad
res["elementwise_chain_1e7_ms"]=bench(w3)*1e3
# W4 matmul
for n in (256,1024):
    A=torch.randn(n,n); B=torch.randn(n,n)
    t=bench(lambda: A@B, reps=7); res[f"matmul_{n}_gflops"]=2*n**3/t/1e9
    def w4():
        a=A.clone().requires_grad_(True); b=B.clone().requires_grad_(True); (a@b).sum().backward()
    res[f"matmul_fwdbwd_{n}_ms"]=bench(w4)*1e3
# W5 MLP step
import torch.nn as nn
model=nn.Sequential(nn.Linear(784,512),nn.ReLU(),nn.Linear(512,512),nn.ReLU(),nn.Linear(512,10))
opt=torch.optim.SGD(model.parameters(),lr=0.01)
X=torch.randn(256,784); Yl=torch.randint(0,10,(256,))
def w5():
    opt.zero_grad(); loss=nn.functional.cross_entropy(model(X),Yl); loss.backward(); opt.step()
res["mlp_step_ms"]=bench(w5,reps=20,warm=3)*1e3
# W6 hessian rosenbrock n=100
def rosen(x): return (100*(x[1:]-x[:-1]**2)**2 + (1-x[:-1])**2).sum()
x0=torch.randn(100,dtype=torch.float64)
res["hessian_rosen100_ms"]=bench(lambda: torch.autograd.functional.hessian(rosen,x0),reps=3)*1e3
print(json.dumps(res,indent=1))
