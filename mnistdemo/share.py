"""A setup in a link: the settings, the open tab and presentation mode as URL query parameters,

    ?model=zoo&epochs=10&batch_size=64&lr=0.001&seed=0&augment=1&tab=draw&present=1

Each setting's parameter is its TrainConfig name, checked by `TrainConfig.check`. Reading a link never
fails: a value that is bad or out of range falls back to the usual one (the nearest one the page
offers, for a number it does not offer) and a notice says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .config import TrainConfig
from .models import PRESETS
from .wording import format_setting

TAB = "tab"
PRESENT = "present"
FLAGS = {"1": True, "0": False, "true": True, "false": False, "on": True, "off": False}


@dataclass(frozen=True)
class LinkedSetup:
    settings: dict[str, Any]  # every setting, usable as it is
    tab: str | None  # the label of the tab to open, None when the link names none (or none that exists)
    present: bool | None  # presentation mode, None when the link does not say
    notices: tuple[str, ...]  # what was ignored or changed, and why


def tab_slug(label: str) -> str:
    """A tab's name in a link: its label's first word, lower case ('Test digits' -> 'test')."""
    return label.split()[0].lower()


def _parse(name: str, text: str) -> Any:
    """A setting's text as the value TrainConfig checks; ValueError when it is not even that kind."""
    kind = type(getattr(TrainConfig(), name))
    if kind is bool:
        if text.lower() not in FLAGS:
            raise ValueError(f"{TrainConfig.label(name)} must be 1 or 0, got {text!r}")
        return FLAGS[text.lower()]
    try:
        return kind(text)
    except ValueError:
        raise ValueError(
            f"{TrainConfig.label(name)} must be {'a whole number' if kind is int else 'a number'}, got {text!r}"
        ) from None


def nearest(value: float, offered: Sequence[float]) -> float:
    """The offered value closest on a log scale (they are powers of two, or 1-2-3-5 per decade)."""
    return min(offered, key=lambda choice: abs(math.log(choice) - math.log(value)))


def read_link(
    params: Mapping[str, str], base: TrainConfig, offered: Mapping[str, Sequence[float]], tabs: Sequence[str]
) -> LinkedSetup:
    """The setup a link asks for, on top of `base` (what the page starts with otherwise).

    A link naming another model starts from that model's usual settings, as choosing it does.
    `offered`: the values the page offers for a setting, where it offers only some."""
    notices = []
    model = params.get("model", base.model)
    if model not in PRESETS:
        notices.append(f"model {model!r} is not one of {', '.join(PRESETS)}: using {base.model}")
        model = base.model
    start = base if model == base.model else TrainConfig.for_model(model, seed=base.seed)
    settings = asdict(start)
    for name in TrainConfig.names():
        if name == "model" or name not in params:
            continue
        usual = settings[name]
        try:
            value = TrainConfig.check(name, _parse(name, params[name]))
        except ValueError as error:
            notices.append(f"{error}: using {format_setting(usual)}")
            continue
        if name in offered and value not in offered[name]:
            value, asked = nearest(value, offered[name]), value
            notices.append(
                f"{TrainConfig.label(name)} {format_setting(asked)} is not offered here: using {format_setting(value)}"
            )
        settings[name] = value

    tab = None
    if TAB in params:
        by_slug = {tab_slug(label): label for label in tabs}
        tab = by_slug.get(params[TAB].lower())
        if tab is None:
            notices.append(f"there is no tab {params[TAB]!r} (choose {', '.join(by_slug)})")
    present = None
    if PRESENT in params:
        present = FLAGS.get(params[PRESENT].lower())
        if present is None:
            notices.append(f"present must be 1 or 0, got {params[PRESENT]!r}")
    known = {*TrainConfig.names(), TAB, PRESENT}
    notices += [f"{name!r} is not a setting here: ignored" for name in params if name not in known]
    return LinkedSetup(settings, tab, present, tuple(notices))


def link_params(config: TrainConfig, tab: str, present: bool) -> dict[str, str]:
    """The query parameters of a link to this setup (`tab`: the open tab's label)."""
    params = {name: _url_value(getattr(config, name)) for name in TrainConfig.names()}
    params[TAB] = tab_slug(tab)
    if present:
        params[PRESENT] = "1"
    return params


def _url_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
