"""What every end-to-end check module shares: the failure a check raises, and helpers."""


class Failed(Exception):
    pass


def need(cond, why):
    if not cond:
        raise Failed(why)


def short(s, n=300):
    s = s.strip().replace("\n", " | ")
    return s if len(s) <= n else s[:n] + "..."
