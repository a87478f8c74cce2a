"""The project's own logging configuration, applied for real and captured: a test configures
settings.LOGGING with `logging.config.dictConfig` (the console handler writing to a buffer,
in the format asked for, the root at the level asked for) and reads back the lines exactly as
an operator would see them. The state of every logger is put back afterwards."""

import copy
import io
import json
import logging
import logging.config
from dataclasses import dataclass, field

from django.conf import settings


@dataclass
class CapturedLog:
    stream: io.StringIO = field(default_factory=io.StringIO)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[str]:
        """Lines as a log shipper splits them: on "\\n" only."""
        return [line for line in self.text.split("\n") if line]

    def objects(self) -> list[dict]:
        """Each line parsed as one JSON object (fails on a line that is not one)."""
        parsed = []
        for line in self.lines():
            value = json.loads(line)
            assert isinstance(value, dict), line
            parsed.append(value)
        return parsed

    def clear(self) -> None:
        self.stream.seek(0)
        self.stream.truncate()


def project_logging_configure(log_format: str, *, level: str = "DEBUG") -> CapturedLog:
    """dictConfig of the project's LOGGING as LOG_FORMAT=`log_format`, LOG_LEVEL=`level`
    would build it, writing to a buffer instead of standard error."""
    captured = CapturedLog()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"]["formatter"] = log_format
    config["handlers"]["console"]["stream"] = captured.stream
    config["handlers"]["console"]["level"] = level
    config["root"]["level"] = level
    logging.config.dictConfig(config)
    return captured


@dataclass
class LoggingState:
    """What dictConfig changes: each logger's handlers, filters, level, propagation."""

    loggers: dict = field(default_factory=dict)

    @classmethod
    def save(cls) -> "LoggingState":
        state = cls()
        for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
            if isinstance(logger, logging.Logger):
                state.loggers[logger] = (
                    [h for h in logger.handlers if not _is_pytest_handler(h)],
                    list(logger.filters),
                    logger.level,
                    logger.propagate,
                    logger.disabled,
                )
        return state

    def restore(self) -> None:
        for logger, (handlers, filters, level, propagate, disabled) in self.loggers.items():
            # pytest's capturing handlers come and go with each test phase: keep today's.
            logger.handlers = handlers + [h for h in logger.handlers if _is_pytest_handler(h)]
            logger.filters = filters
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled


def _is_pytest_handler(handler: logging.Handler) -> bool:
    return type(handler).__module__.startswith("_pytest")
