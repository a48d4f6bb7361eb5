"""Callbacks that watch training epoch by epoch: early stopping, a CSV log, TensorBoard.

Pass them to :meth:`aekit.Autoencoder.fit` (or :func:`aekit.training.loop.fit`). Each hook
receives the model being trained; ``on_epoch_end`` returning True ends training at that
epoch boundary.
"""

from __future__ import annotations

import copy
import csv
import math
from dataclasses import asdict
from pathlib import Path

from torch import nn

from aekit.errors import ParameterError, check_whole
from aekit.training.checkpoints import EpochRecord

MONITORED = ("val_loss", "loss")


class Callback:
    """Does nothing; subclasses override the hooks they need."""

    def on_train_begin(self, model: nn.Module) -> None:
        pass

    def on_epoch_end(self, record: EpochRecord, model: nn.Module) -> bool:
        """Called after every epoch; True stops training."""
        return False

    def on_train_end(self, model: nn.Module) -> None:
        pass


class EarlyStopping(Callback):
    """Stop once ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs (validated epochs, when fit's ``validation_freq`` skips some); with
    ``restore_best_weights`` the model ends with the weights of its best epoch."""

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 3,
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
    ):
        if monitor not in MONITORED:
            raise ParameterError("monitor", monitor, f"must be one of {', '.join(MONITORED)}")
        check_whole("patience", patience)
        if not (isinstance(min_delta, int | float) and 0 <= min_delta < math.inf):
            raise ParameterError("min_delta", min_delta, "must be 0 or more")
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, model: nn.Module) -> None:
        self.best, self.best_epoch, self.best_weights, self.waited = math.inf, 0, None, 0

    def on_epoch_end(self, record: EpochRecord, model: nn.Module) -> bool:
        value = getattr(record, self.monitor)
        if value is None:  # an epoch without validation (fit's validation_freq): nothing to judge
            return False
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.waited = value, record.epoch, 0
            if self.restore_best_weights:
                self.best_weights = copy.deepcopy(model.state_dict())
            return False
        self.waited += 1
        return self.waited >= self.patience

    def on_train_end(self, model: nn.Module) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            model.load_state_dict(self.best_weights)


class CSVLogger(Callback):
    """Append one row per epoch (epoch, loss, val_loss, seconds) to a CSV file, flushed as it
    goes so the file can be watched during training."""

    def __init__(self, path: str | Path, append: bool = False):
        self.path, self.append = Path(path), append

    def on_train_begin(self, model: nn.Module) -> None:
        fresh = not (self.append and self.path.exists())
        self._file = self.path.open("w" if fresh else "a", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=[f for f in EpochRecord.__dataclass_fields__])
        if fresh:
            self._writer.writeheader()

    def on_epoch_end(self, record: EpochRecord, model: nn.Module) -> bool:
        self._writer.writerow(asdict(record))
        self._file.flush()
        return False

    def on_train_end(self, model: nn.Module) -> None:
        self._file.close()


class TensorBoard(Callback):
    """Write the losses per epoch for TensorBoard (``pip install 'aekit[tensorboard]'``)."""

    def __init__(self, log_dir: str | Path = "logs"):
        self.log_dir = Path(log_dir)

    def on_train_begin(self, model: nn.Module) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ParameterError(
                "callbacks", "TensorBoard", "needs the tensorboard package: pip install 'aekit[tensorboard]'"
            ) from None
        self._writer = SummaryWriter(str(self.log_dir))

    def on_epoch_end(self, record: EpochRecord, model: nn.Module) -> bool:
        for name in MONITORED:
            value = getattr(record, name)
            if value is not None:
                self._writer.add_scalar(name, value, record.epoch)
        self._writer.flush()
        return False

    def on_train_end(self, model: nn.Module) -> None:
        self._writer.close()


def format_epoch(record: EpochRecord, epochs: int) -> str:
    """``epoch   3/20  loss 0.05123  val_loss 0.05011  (2.1s)``"""
    val = "" if record.val_loss is None else f"  val_loss {record.val_loss:.5f}"
    return f"epoch {record.epoch:>3}/{epochs}  loss {record.loss:.5f}{val}  ({record.seconds:.1f}s)"


class EpochPrinter(Callback):
    """One line per epoch on standard output, as Keras' ``fit`` prints with verbose=1."""

    def __init__(self, epochs: int):
        self.epochs = epochs

    def on_epoch_end(self, record: EpochRecord, model: nn.Module) -> bool:
        print(format_epoch(record, self.epochs), flush=True)
        return False
