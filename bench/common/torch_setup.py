"""The "setup" request of the torchvision reference scripts: sets torch's intra-op threads and answers the
versions the benchmark JSON records."""
import platform


def torch_setup(req):
    import PIL
    import torch
    import torchvision

    torch.set_num_threads(req["threads"])
    return {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "pil": PIL.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
    }
