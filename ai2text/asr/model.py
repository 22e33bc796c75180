"""NeMo ASR models as ai2text uses them: built from a preset, saved, and loaded safely.

Loading a ``.nemo`` from a user: the archive is checked and extracted by
:mod:`ai2text.asr.archive` (NeMo's own extraction is never given an unchecked file), the model
class named in its config must be one of the NeMo ASR classes below, and weights are read by
``torch.load`` with ``weights_only`` (refused outright if the environment turns that off).
CTC and hybrid RNNT/CTC models decode through their CTC head with ai2text's decoders; RNNT-only
models load but cannot be decoded by the :class:`~ai2text.asr.transcriber.Transcriber`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ai2text.asr.archive import extract_archive
from ai2text.asr.presets import get_preset, nemo_config
from ai2text.asr.vocabulary import Vocabulary, train_bpe, vietnamese_characters
from ai2text.errors import ModelLoadError

ModelKind = Literal["ctc", "hybrid", "rnnt"]
SUPPORTED_CLASSES: dict[str, ModelKind] = {
    "EncDecCTCModel": "ctc",
    "EncDecCTCModelBPE": "ctc",
    "EncDecHybridRNNTCTCModel": "hybrid",
    "EncDecHybridRNNTCTCBPEModel": "hybrid",
    "EncDecRNNTModel": "rnnt",
    "EncDecRNNTBPEModel": "rnnt",
}


@dataclass
class AsrModel:
    module: Any  # a NeMo ASRModel
    kind: ModelKind
    vocabulary: Vocabulary
    frame_s: float
    preset: str | None

    @property
    def parameters(self) -> int:
        return int(sum(p.numel() for p in self.module.parameters()))

    def save(self, path: Path) -> None:
        """Write a ``.nemo`` atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        self.module.save_to(str(tmp))
        tmp.replace(path)

    def ctc_log_probs(self, signals: Any, lengths: Any) -> tuple[Any, Any]:
        """Log posteriors (batch, frames, labels + 1) and valid frame counts, from the CTC head."""
        if self.kind == "ctc":
            log_probs, frames, _ = self.module(input_signal=signals, input_signal_length=lengths)
            return log_probs, frames
        if self.kind == "hybrid":
            encoded, frames = self.module(input_signal=signals, input_signal_length=lengths)
            return self.module.ctc_decoder(encoder_output=encoded), frames
        raise ModelLoadError("this RNNT-only model has no CTC head; use a CTC or hybrid model")


def _wrap(module: Any, kind: ModelKind) -> AsrModel:
    decoder = module.ctc_decoder if kind == "hybrid" else module.decoder
    if getattr(module, "tokenizer", None) is not None:
        processor = module.tokenizer.tokenizer
        labels = tuple(processor.id_to_piece(i) for i in range(processor.get_piece_size()))
        vocabulary = Vocabulary(labels, "bpe")
    else:
        vocabulary = Vocabulary(tuple(decoder.vocabulary), "char")
    stride = float(module.cfg.preprocessor.window_stride)
    factor = int(getattr(module.encoder, "subsampling_factor", 1))
    preset = module.cfg.get("ai2text", {}).get("preset") if "ai2text" in module.cfg else None
    return AsrModel(module, kind, vocabulary, stride * factor, preset)


def build_model(
    preset_name: str, bpe_text: list[str] | None = None, work_dir: Path | None = None
) -> AsrModel:
    """A freshly initialised model of a preset; BPE presets train a tokenizer on ``bpe_text``."""
    from omegaconf import OmegaConf

    from ai2text.asr.nemo_runtime import import_nemo_asr

    nemo_asr = import_nemo_asr()
    preset = get_preset(preset_name)
    if preset.vocabulary == "char":
        config = nemo_config(preset, labels=vietnamese_characters())
        module = nemo_asr.models.EncDecCTCModel(cfg=OmegaConf.create(config))
    else:
        if not bpe_text or work_dir is None:
            raise ModelLoadError(
                f"preset {preset_name} needs text and a folder for its BPE tokenizer"
            )
        tokenizer = train_bpe(bpe_text, work_dir / "tokenizer", preset.bpe_size)
        config = nemo_config(preset, tokenizer_dir=tokenizer.parent)
        module = nemo_asr.models.EncDecCTCModelBPE(cfg=OmegaConf.create(config))
    return _wrap(module, "ctc")


def load_model(path: Path) -> AsrModel:
    """Load a NeMo ASR ``.nemo`` safely on the CPU, or raise ModelLoadError saying why not."""
    import yaml

    if not path.is_file():
        raise ModelLoadError(f"no model file at {path}")
    if os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "").lower() in {"1", "true", "yes"}:
        raise ModelLoadError(
            "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD is set, which would let a checkpoint run code; "
            "unset it"
        )
    with tempfile.TemporaryDirectory(prefix="ai2text-model-") as folder:
        listing = extract_archive(path, Path(folder))
        configs = [n for n in listing.names if n.rsplit("/", 1)[-1] == "model_config.yaml"]
        weights = [n for n in listing.names if n.rsplit("/", 1)[-1] == "model_weights.ckpt"]
        if len(configs) != 1 or len(weights) != 1:
            raise ModelLoadError(
                f"{path.name} is not a NeMo model: it needs one model_config.yaml and one "
                "model_weights.ckpt"
            )
        try:
            config = yaml.safe_load((Path(folder) / configs[0]).read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ModelLoadError(f"{path.name} has an unreadable model_config.yaml: {exc}") from exc
        target = str(config.get("target", "")) if isinstance(config, dict) else ""
        class_name = target.rsplit(".", 1)[-1]
        if class_name not in SUPPORTED_CLASSES or not target.startswith("nemo.collections.asr."):
            raise ModelLoadError(
                f"{path.name} holds a {target or 'model of unknown class'}; supported: NeMo ASR "
                f"{', '.join(SUPPORTED_CLASSES)}"
            )
        from nemo.core.connectors.save_restore_connector import SaveRestoreConnector

        from ai2text.asr.nemo_runtime import import_nemo_asr

        nemo_asr = import_nemo_asr()
        connector = SaveRestoreConnector()
        connector.model_extracted_dir = folder
        try:
            module = getattr(nemo_asr.models, class_name).restore_from(
                str(path), map_location="cpu", save_restore_connector=connector
            )
        except Exception as exc:
            raise ModelLoadError(f"NeMo could not restore {path.name}: {exc}") from exc
    module.eval()
    return _wrap(module, SUPPORTED_CLASSES[class_name])
