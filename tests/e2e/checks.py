"""What every end-to-end check module shares: the failure a check raises, and helpers."""


class Failed(Exception):
    pass


def need(cond, why):
    if not cond:
        raise Failed(why)


def short(s, n=300):
    s = s.strip().replace("\n", " | ")
    return s if len(s) <= n else s[:n] + "..."


def vmcall_exits(status):
    """VMCALL exits of a `status --json` but the channel's: hvrelay in the lab guest polls
    the monitor with VMCALL a few times a second (docs/channel.md); the injection engine's
    and the syscall trap's VMCALLs are the rest."""
    return status["exits"].get("VMCALL", 0) - status.get("channel", {}).get("vmcalls", 0)
