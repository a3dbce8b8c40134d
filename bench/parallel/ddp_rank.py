"""PyTorch side of bench/parallel/run.ts: the same step as ours-rank.ts under DistributedDataParallel
(Gloo, env:// with torchrun's variables) or, without WORLD_SIZE, one process on the global batch.
Usage: python3 ddp_rank.py ARCH SIZE GLOBAL_BATCH STEPS; prints one JSON line (rank 0)."""
import json, math, os, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

arch, size, global_batch, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
world = int(os.environ.get("WORLD_SIZE", "1"))
rank = int(os.environ.get("RANK", "0"))
if world > 1:
    import torch.distributed as dist
    dist.init_process_group("gloo", init_method="env://")
torch.manual_seed(0)
backbone = getattr(torchvision.models, arch)()
dim = backbone.fc.in_features
backbone.fc = nn.Identity()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = backbone
        self.norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.weight = nn.Parameter(torch.empty(100, dim).uniform_(-1 / math.sqrt(dim), 1 / math.sqrt(dim)))

    def forward(self, x, y):
        e = F.normalize(self.norm(self.backbone(x)))
        return F.cross_entropy(e @ F.normalize(self.weight).t() / 0.05, y)


net = Net()
model = nn.parallel.DistributedDataParallel(net) if world > 1 else net
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
batch = global_batch // world
g = torch.Generator().manual_seed(2 + rank)
x = torch.randn(batch, 3, size, size, generator=g)
y = torch.arange(batch) % 100
model.train()
times = []
for s in range(steps + 1):
    t0 = time.perf_counter()
    model(x, y).backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    if s > 0:
        times.append((time.perf_counter() - t0) * 1000)
if rank == 0:
    print(json.dumps({"processes": world, "threads": torch.get_num_threads(), "msPerStep": times, "torch": torch.__version__}))
