"""FastConformer CTC presets, built from config with no download.

=========  ===========  ============  ===========  ==========================================
preset     parameters   subsampling   vocabulary   meant for
=========  ===========  ============  ===========  ==========================================
tiny       3.5 M        4x            characters   CPU training and serving, the bootstrap model
small      15.7 M       4x            characters   the seed design's size, a GPU or patient CPU
large      109 M        8x            BPE 1024     NeMo FastConformer-L's shape, GPUs
=========  ===========  ============  ===========  ==========================================

Characters need 4x subsampling (25 frames/s for 15-20 characters/s of speech); 8x (12.5 frames/s)
needs BPE pieces that cover several characters each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ai2text.errors import InputError

PresetName = Literal["tiny", "small", "large"]
FEATURE_STRIDE_S = 0.01


class ModelPreset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    d_model: int = Field(gt=0)
    n_layers: int = Field(gt=0)
    n_heads: int = Field(gt=0)
    ff_expansion: int = 4
    conv_kernel: int = 9
    subsampling_factor: Literal[4, 8]
    subsampling_channels: int
    vocabulary: Literal["char", "bpe"]
    bpe_size: int = 1024

    @property
    def frame_s(self) -> float:
        return FEATURE_STRIDE_S * self.subsampling_factor


PRESETS: dict[str, ModelPreset] = {
    "tiny": ModelPreset(
        name="tiny", d_model=144, n_layers=6, n_heads=4, subsampling_factor=4,
        subsampling_channels=144, vocabulary="char",
    ),
    "small": ModelPreset(
        name="small", d_model=256, n_layers=9, n_heads=4, subsampling_factor=4,
        subsampling_channels=256, vocabulary="char",
    ),
    "large": ModelPreset(
        name="large", d_model=512, n_layers=17, n_heads=8, subsampling_factor=8,
        subsampling_channels=256, vocabulary="bpe", bpe_size=1024,
    ),
}  # fmt: skip


def get_preset(name: str) -> ModelPreset:
    try:
        return PRESETS[name]
    except KeyError:
        raise InputError(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}") from None


def _preprocessor() -> dict[str, Any]:
    return {
        "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
        "sample_rate": 16000,
        "normalize": "per_feature",
        "window_size": 0.025,
        "window_stride": FEATURE_STRIDE_S,
        "window": "hann",
        "features": 80,
        "n_fft": 512,
        "log": True,
        "frame_splicing": 1,
        "dither": 1e-5,
        "pad_to": 0,
        "pad_value": 0.0,
    }


def _encoder(preset: ModelPreset) -> dict[str, Any]:
    return {
        "_target_": "nemo.collections.asr.modules.ConformerEncoder",
        "feat_in": 80,
        "feat_out": -1,
        "n_layers": preset.n_layers,
        "d_model": preset.d_model,
        "subsampling": "dw_striding",
        "subsampling_factor": preset.subsampling_factor,
        "subsampling_conv_channels": preset.subsampling_channels,
        "causal_downsampling": False,
        "ff_expansion_factor": preset.ff_expansion,
        "self_attention_model": "rel_pos",
        "n_heads": preset.n_heads,
        "att_context_size": [-1, -1],
        "att_context_style": "regular",
        "xscaling": True,
        "untie_biases": True,
        "pos_emb_max_len": 5000,
        "conv_kernel_size": preset.conv_kernel,
        "conv_norm_type": "batch_norm",
        "conv_context_size": None,
        "dropout": 0.1,
        "dropout_pre_encoder": 0.1,
        "dropout_emb": 0.0,
        "dropout_att": 0.1,
        "stochastic_depth_drop_prob": 0.0,
        "stochastic_depth_mode": "linear",
        "stochastic_depth_start_layer": 1,
    }


def nemo_config(
    preset: ModelPreset, labels: list[str] | None = None, tokenizer_dir: Path | None = None
) -> dict[str, Any]:
    """The NeMo model config of a preset: characters need ``labels``, BPE a ``tokenizer_dir``."""
    config: dict[str, Any] = {
        "sample_rate": 16000,
        "ctc_reduction": "mean_volume",
        "log_prediction": False,
        "train_ds": None,
        "test_ds": None,
        "preprocessor": _preprocessor(),
        "spec_augment": {
            "_target_": "nemo.collections.asr.modules.SpectrogramAugmentation",
            "freq_masks": 2,
            "time_masks": 10,
            "freq_width": 27,
            "time_width": 0.05,
        },
        "encoder": _encoder(preset),
        "decoder": {
            "_target_": "nemo.collections.asr.modules.ConvASRDecoder",
            "feat_in": None,
            "num_classes": -1,
            "vocabulary": [],
        },
        "optim": {"name": "adamw", "lr": 1e-3, "betas": [0.9, 0.98], "weight_decay": 1e-3},
        "ai2text": {"preset": preset.name},
    }
    if preset.vocabulary == "char":
        if not labels:
            raise InputError(f"preset {preset.name} needs character labels")
        config["labels"] = labels
        config["decoder"]["vocabulary"] = labels
        config["validation_ds"] = None
    else:
        if tokenizer_dir is None:
            raise InputError(f"preset {preset.name} needs a BPE tokenizer folder")
        config["tokenizer"] = {"dir": str(tokenizer_dir), "type": "bpe"}
        # EncDecCTCModelBPE.transcribe() reads validation_ds.use_start_end_token
        config["validation_ds"] = {
            "manifest_filepath": None,
            "sample_rate": 16000,
            "batch_size": 4,
            "shuffle": False,
            "use_start_end_token": False,
            "defer_setup": True,
        }
    return config
