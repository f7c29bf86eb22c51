"""Transformer Attribution (Chefer, Gur & Wolf, CVPR 2021) against its released code, transcribed below.

The reference is github.com/hila-chefer/Transformer-Explainability at c3e578f: the layer rules of
``modules/layers_ours.py`` (RelProp, RelPropSimple, Linear, Add, Clone, einsum, IndexSelect, safe_divide),
the model of ``baselines/ViT/ViT_LRP.py`` (Attention, Block, Mlp, VisionTransformer, relprop with
method="transformer_attribution", compute_rollout_attention) and ``ViT_explanation_generator.LRP.generate_LRP``.
Transcribed as released (einops' rearrange written as reshape/permute; CUDA calls dropped); the weights come
from a tiny timm ViT, whose state dict has the same names.
"""
import numpy as np
import pytest
import timm
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

import explorer
from explorer.anatomy import split_output
from explorer.analyses import EXPLANATION_METHODS, applicable_methods, gradient_rollout
from explorer.analyses.transformer_attribution import TransformerAttributionUnavailable, transformer_attribution


# ---- modules/layers_ours.py -------------------------------------------------------------------------------
def safe_divide(a, b):
    den = b.clamp(min=1e-9) + b.clamp(max=1e-9)
    den = den + den.eq(0).type(den.type()) * 1e-9
    return a / den * b.ne(0).type(b.type())


def forward_hook(self, input, output):
    if type(input[0]) in (list, tuple):
        self.X = []
        for i in input[0]:
            x = i.detach()
            x.requires_grad = True
            self.X.append(x)
    else:
        self.X = input[0].detach()
        self.X.requires_grad = True
    self.Y = output


class RelProp(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_forward_hook(forward_hook)

    def gradprop(self, Z, X, S):
        return torch.autograd.grad(Z, X, S, retain_graph=True)

    def relprop(self, R, alpha):
        return R


class RelPropSimple(RelProp):
    def relprop(self, R, alpha):
        Z = self.forward(self.X)
        S = safe_divide(R, Z)
        C = self.gradprop(Z, self.X, S)
        if torch.is_tensor(self.X) is False:
            return [self.X[0] * C[0], self.X[1] * C[1]]
        return self.X * (C[0])


class GELU(nn.GELU, RelProp):
    pass


class Softmax(nn.Softmax, RelProp):
    pass


class LayerNorm(nn.LayerNorm, RelProp):
    pass


class Dropout(nn.Dropout, RelProp):
    pass


class Add(RelPropSimple):
    def forward(self, inputs):
        return torch.add(*inputs)

    def relprop(self, R, alpha):
        Z = self.forward(self.X)
        S = safe_divide(R, Z)
        C = self.gradprop(Z, self.X, S)
        a = self.X[0] * C[0]
        b = self.X[1] * C[1]
        a_sum = a.sum()
        b_sum = b.sum()
        a_fact = safe_divide(a_sum.abs(), a_sum.abs() + b_sum.abs()) * R.sum()
        b_fact = safe_divide(b_sum.abs(), a_sum.abs() + b_sum.abs()) * R.sum()
        a = a * safe_divide(a_fact, a.sum())
        b = b * safe_divide(b_fact, b.sum())
        return [a, b]


class einsum(RelPropSimple):
    def __init__(self, equation):
        super().__init__()
        self.equation = equation

    def forward(self, *operands):
        return torch.einsum(self.equation, *operands)


class IndexSelect(RelProp):
    def forward(self, inputs, dim, indices):
        self.__setattr__('dim', dim)
        self.__setattr__('indices', indices)
        return torch.index_select(inputs, dim, indices)

    def relprop(self, R, alpha):
        Z = self.forward(self.X, self.dim, self.indices)
        S = safe_divide(R, Z)
        C = self.gradprop(Z, self.X, S)
        return self.X * (C[0])


class Clone(RelProp):
    def forward(self, input, num):
        self.__setattr__('num', num)
        return [input for _ in range(num)]

    def relprop(self, R, alpha):
        Z = [self.X for _ in range(self.num)]
        S = [safe_divide(r, z) for r, z in zip(R, Z)]
        C = self.gradprop(Z, self.X, S)[0]
        return self.X * C


class Linear(nn.Linear, RelProp):
    def relprop(self, R, alpha):
        beta = alpha - 1
        pw = torch.clamp(self.weight, min=0)
        nw = torch.clamp(self.weight, max=0)
        px = torch.clamp(self.X, min=0)
        nx = torch.clamp(self.X, max=0)

        def f(w1, w2, x1, x2):
            Z1 = F.linear(x1, w1)
            Z2 = F.linear(x2, w2)
            S1 = safe_divide(R, Z1 + Z2)
            S2 = safe_divide(R, Z1 + Z2)
            C1 = x1 * torch.autograd.grad(Z1, x1, S1)[0]
            C2 = x2 * torch.autograd.grad(Z2, x2, S2)[0]
            return C1 + C2

        activator_relevances = f(pw, nw, px, nx)
        inhibitor_relevances = f(nw, pw, px, nx)
        return alpha * activator_relevances - beta * inhibitor_relevances


# ---- baselines/ViT/ViT_LRP.py -----------------------------------------------------------------------------
def compute_rollout_attention(all_layer_matrices, start_layer=0):
    num_tokens = all_layer_matrices[0].shape[1]
    batch_size = all_layer_matrices[0].shape[0]
    eye = torch.eye(num_tokens).expand(batch_size, num_tokens, num_tokens).to(all_layer_matrices[0].device)
    all_layer_matrices = [all_layer_matrices[i] + eye for i in range(len(all_layer_matrices))]
    joint_attention = all_layer_matrices[start_layer]
    for i in range(start_layer + 1, len(all_layer_matrices)):
        joint_attention = all_layer_matrices[i].bmm(joint_attention)
    return joint_attention


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.fc1 = Linear(in_features, hidden_features)
        self.act = GELU()
        self.fc2 = Linear(hidden_features, in_features)
        self.drop = Dropout(0.0)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))

    def relprop(self, cam, **kwargs):
        cam = self.drop.relprop(cam, **kwargs)
        cam = self.fc2.relprop(cam, **kwargs)
        cam = self.act.relprop(cam, **kwargs)
        return self.fc1.relprop(cam, **kwargs)


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.matmul1 = einsum('bhid,bhjd->bhij')
        self.matmul2 = einsum('bhij,bhjd->bhid')
        self.qkv = Linear(dim, dim * 3, bias=True)
        self.attn_drop = Dropout(0.0)
        self.proj = Linear(dim, dim)
        self.proj_drop = Dropout(0.0)
        self.softmax = Softmax(dim=-1)

    def save_attn_gradients(self, attn_gradients):
        self.attn_gradients = attn_gradients

    def forward(self, x):
        b, n, _, h = *x.shape, self.num_heads
        qkv = self.qkv(x)
        q, k, v = qkv.reshape(b, n, 3, h, -1).permute(2, 0, 3, 1, 4)  # 'b n (qkv h d) -> qkv b h n d'
        dots = self.matmul1([q, k]) * self.scale
        attn = self.softmax(dots)
        attn = self.attn_drop(attn)
        attn.register_hook(self.save_attn_gradients)
        out = self.matmul2([attn, v])
        out = out.permute(0, 2, 1, 3).reshape(b, n, -1)  # 'b h n d -> b n (h d)'
        return self.proj_drop(self.proj(out))

    def relprop(self, cam, **kwargs):
        cam = self.proj_drop.relprop(cam, **kwargs)
        cam = self.proj.relprop(cam, **kwargs)
        b, n, _ = cam.shape
        cam = cam.reshape(b, n, self.num_heads, -1).permute(0, 2, 1, 3)  # 'b n (h d) -> b h n d'
        (cam1, cam_v) = self.matmul2.relprop(cam, **kwargs)
        cam1 /= 2
        cam_v /= 2
        self.attn_cam = cam1
        cam1 = self.attn_drop.relprop(cam1, **kwargs)
        cam1 = self.softmax.relprop(cam1, **kwargs)
        (cam_q, cam_k) = self.matmul1.relprop(cam1, **kwargs)
        cam_q /= 2
        cam_k /= 2
        cam_qkv = torch.stack([cam_q, cam_k, cam_v]).permute(1, 3, 0, 2, 4).reshape(b, n, -1)  # 'qkv b h n d -> b n (qkv h d)'
        return self.qkv.relprop(cam_qkv, **kwargs)


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio):
        super().__init__()
        self.norm1 = LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads=num_heads)
        self.norm2 = LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.add1, self.add2 = Add(), Add()
        self.clone1, self.clone2 = Clone(), Clone()

    def forward(self, x):
        x1, x2 = self.clone1(x, 2)
        x = self.add1([x1, self.attn(self.norm1(x2))])
        x1, x2 = self.clone2(x, 2)
        return self.add2([x1, self.mlp(self.norm2(x2))])

    def relprop(self, cam, **kwargs):
        (cam1, cam2) = self.add2.relprop(cam, **kwargs)
        cam2 = self.mlp.relprop(cam2, **kwargs)
        cam2 = self.norm2.relprop(cam2, **kwargs)
        cam = self.clone2.relprop((cam1, cam2), **kwargs)
        (cam1, cam2) = self.add1.relprop(cam, **kwargs)
        cam2 = self.attn.relprop(cam2, **kwargs)
        cam2 = self.norm1.relprop(cam2, **kwargs)
        return self.clone1.relprop((cam1, cam2), **kwargs)


class PatchEmbed(nn.Module):
    def __init__(self, patch_size, embed_dim):
        super().__init__()
        self.proj = nn.Conv2d(3, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    def __init__(self, img_size, patch_size, num_classes, embed_dim, depth, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.patch_embed = PatchEmbed(patch_size, embed_dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, (img_size // patch_size) ** 2 + 1, embed_dim))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = LayerNorm(embed_dim, eps=1e-6)  # released: torch's default 1e-5; timm's weights use 1e-6
        self.head = Linear(embed_dim, num_classes)
        self.pool = IndexSelect()
        self.add = Add()

    def forward(self, x):
        B = x.shape[0]
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1)
        x = self.add([x, self.pos_embed])
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        x = self.pool(x, dim=1, indices=torch.tensor(0, device=x.device))
        return self.head(x.squeeze(1))

    def relprop(self, cam=None, method="transformer_attribution", is_ablation=False, start_layer=0, **kwargs):
        cam = self.head.relprop(cam, **kwargs)
        cam = cam.unsqueeze(1)
        cam = self.pool.relprop(cam, **kwargs)
        cam = self.norm.relprop(cam, **kwargs)
        for blk in reversed(self.blocks):
            cam = blk.relprop(cam, **kwargs)
        assert method == "transformer_attribution"
        cams = []
        for blk in self.blocks:
            grad = blk.attn.attn_gradients
            cam = blk.attn.attn_cam
            cam = cam[0].reshape(-1, cam.shape[-1], cam.shape[-1])
            grad = grad[0].reshape(-1, grad.shape[-1], grad.shape[-1])
            cam = grad * cam
            cam = cam.clamp(min=0).mean(dim=0)
            cams.append(cam.unsqueeze(0))
        rollout = compute_rollout_attention(cams, start_layer=start_layer)
        return rollout[:, 0, 1:]


# ---- ViT_explanation_generator.LRP.generate_LRP -------------------------------------------------------------
def generate_LRP(model, input, index=None, start_layer=0):
    output = model(input)
    kwargs = {"alpha": 1}
    if index is None:
        index = np.argmax(output.cpu().data.numpy(), axis=-1)
    one_hot = np.zeros((1, output.size()[-1]), dtype=np.float32)
    one_hot[0, index] = 1
    one_hot_vector = one_hot
    one_hot = torch.from_numpy(one_hot).requires_grad_(True)
    one_hot = torch.sum(one_hot * output)
    model.zero_grad()
    one_hot.backward(retain_graph=True)
    return model.relprop(torch.tensor(one_hot_vector).to(input.device), method="transformer_attribution",
                         start_layer=start_layer, **kwargs)


# ---- the tests ----------------------------------------------------------------------------------------------
IMAGE = Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8))
SIZE = dict(img_size=32, patch_size=8, embed_dim=48, depth=3, num_heads=3)


def _tiny(seed=0, **kwargs):
    torch.manual_seed(seed)
    module = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=5, **SIZE, **kwargs)
    with torch.no_grad():  # random biases, a head that reads something: every rule gets work to do
        for name, p in module.named_parameters():
            if name.endswith("bias") or name == "head.weight" or name in ("pos_embed", "cls_token"):
                p.normal_(0, 0.3)
    return module.eval()


@pytest.mark.parametrize("seed, target, start", [(0, None, 0), (1, 3, 0), (2, 0, 1)])
def test_agrees_with_the_released_code_on_a_tiny_timm_vit(seed, target, start):
    module = _tiny(seed)
    reference = VisionTransformer(num_classes=5, **SIZE).eval()
    missing = reference.load_state_dict(module.state_dict(), strict=False)
    assert not missing.missing_keys, missing
    model = explorer.load(module, device="cpu")
    x = model.input_tensor(model.run(IMAGE).input_image)
    np.testing.assert_allclose(reference(x).detach().numpy(), module(x).detach().numpy(), atol=1e-5)  # one network
    expected = generate_LRP(reference, x.clone(), index=target, start_layer=start).detach().numpy().reshape(4, 4)
    ours = transformer_attribution(model, x, target, start_block=start)
    scale = np.abs(expected).max()
    assert scale > 0
    assert np.abs(ours - expected).max() <= 1e-4 * scale, (np.abs(ours - expected).max(), scale)  # relative to the map


def test_differs_from_gradient_rollout():
    """The relevance, not the probabilities, is weighted by the gradient: the two Chefer maps differ."""
    model = explorer.load(_tiny(), device="cpu")
    x = model.input_tensor(model.run(IMAGE).input_image)
    a, b = transformer_attribution(model, x, 1), gradient_rollout(model, x, 1)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] < 0.999


def test_runs_from_the_registry_on_the_demo_model_with_query_key_norms():
    model = explorer.load("demo", device="cpu")
    trace = model.run(IMAGE)
    relevance = EXPLANATION_METHODS["transformer attribution"](model, trace)
    assert relevance.shape == trace.grid and np.all(relevance >= 0) and relevance.max() > 0


def test_a_model_with_layer_scale_is_refused_with_a_sentence():
    model = explorer.load(_tiny(init_values=0.1), device="cpu")
    trace = model.run(IMAGE)
    with pytest.raises(TransformerAttributionUnavailable, match="layer scale"):
        EXPLANATION_METHODS["transformer attribution"](model, trace, 0)


def _as_timm(state: dict, depth: int) -> dict:
    """A torchvision or transformers ViT's weights under timm's names (the released code's names too)."""
    out = {}
    if "class_token" in state:  # torchvision
        out.update({"cls_token": state["class_token"], "pos_embed": state["encoder.pos_embedding"],
                    "patch_embed.proj.weight": state["conv_proj.weight"], "patch_embed.proj.bias": state["conv_proj.bias"],
                    "norm.weight": state["encoder.ln.weight"], "norm.bias": state["encoder.ln.bias"],
                    "head.weight": state["heads.head.weight"], "head.bias": state["heads.head.bias"]})
        for i in range(depth):
            src = f"encoder.layers.encoder_layer_{i}."
            for a, b in (("ln_1", "norm1"), ("ln_2", "norm2"), ("self_attention.out_proj", "attn.proj"),
                         ("mlp.0", "mlp.fc1"), ("mlp.3", "mlp.fc2")):
                out[f"blocks.{i}.{b}.weight"], out[f"blocks.{i}.{b}.bias"] = state[src + a + ".weight"], state[src + a + ".bias"]
            out[f"blocks.{i}.attn.qkv.weight"] = state[src + "self_attention.in_proj_weight"]
            out[f"blocks.{i}.attn.qkv.bias"] = state[src + "self_attention.in_proj_bias"]
        return out
    out.update({"cls_token": state["vit.embeddings.cls_token"], "pos_embed": state["vit.embeddings.position_embeddings"],
                "patch_embed.proj.weight": state["vit.embeddings.patch_embeddings.projection.weight"],
                "patch_embed.proj.bias": state["vit.embeddings.patch_embeddings.projection.bias"],
                "norm.weight": state["vit.layernorm.weight"], "norm.bias": state["vit.layernorm.bias"],
                "head.weight": state["classifier.weight"], "head.bias": state["classifier.bias"]})
    for i in range(depth):  # transformers 5's names
        src = f"vit.layers.{i}."
        for a, b in (("layernorm_before", "norm1"), ("layernorm_after", "norm2"), ("attention.o_proj", "attn.proj"),
                     ("mlp.fc1", "mlp.fc1"), ("mlp.fc2", "mlp.fc2")):
            out[f"blocks.{i}.{b}.weight"], out[f"blocks.{i}.{b}.bias"] = state[src + a + ".weight"], state[src + a + ".bias"]
        for p in ("weight", "bias"):
            out[f"blocks.{i}.attn.qkv.{p}"] = torch.cat([state[f"{src}attention.{n}.{p}"]
                                                         for n in ("q_proj", "k_proj", "v_proj")])
    return out


def _same_in_timm_and_released(module, name):
    """(ours on ``module``, the released code on the same weights) for one image and class."""
    reference = VisionTransformer(num_classes=5, **SIZE).eval()
    reference.load_state_dict(_as_timm(module.state_dict(), SIZE["depth"]), strict=False)
    model = explorer.load(module, device="cpu") if name is None else explorer.load(name, device="cpu")
    x = model.input_tensor(model.run(IMAGE).input_image)
    logits = split_output(model.model(x))[0]
    np.testing.assert_allclose(reference(x).detach().numpy(), logits.detach().numpy(), atol=1e-4)  # one network
    return transformer_attribution(model, x, 2), generate_LRP(reference, x.clone(), index=2).detach().numpy().reshape(4, 4)


def test_agrees_with_the_released_code_on_a_torchvision_vit():
    from torchvision.models.vision_transformer import VisionTransformer as TorchvisionViT

    torch.manual_seed(0)
    module = TorchvisionViT(image_size=32, patch_size=8, num_layers=SIZE["depth"], num_heads=SIZE["num_heads"],
                            hidden_dim=SIZE["embed_dim"], mlp_dim=4 * SIZE["embed_dim"], num_classes=5).eval()
    with torch.no_grad():
        module.heads.head.weight.normal_(0, 0.5)
    ours, expected = _same_in_timm_and_released(module, None)
    assert np.abs(expected).max() > 0
    assert np.abs(ours - expected).max() <= 1e-4 * np.abs(expected).max()


def test_agrees_with_the_released_code_on_a_transformers_vit(tmp_path):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.ViTConfig(image_size=32, patch_size=8, num_labels=5, hidden_size=SIZE["embed_dim"],
                                    num_hidden_layers=SIZE["depth"], num_attention_heads=SIZE["num_heads"],
                                    intermediate_size=4 * SIZE["embed_dim"], layer_norm_eps=1e-6)
    module = transformers.ViTForImageClassification(config).eval()
    module.save_pretrained(tmp_path / "vit")
    ours, expected = _same_in_timm_and_released(module, f"hf:{tmp_path / 'vit'}")
    assert np.abs(expected).max() > 0
    assert np.abs(ours - expected).max() <= 1e-4 * np.abs(expected).max()


def test_a_dinov2_with_layer_scale_is_refused_and_left_out_of_compares_default(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.Dinov2Config(image_size=28, patch_size=7, num_labels=3, hidden_size=32, num_hidden_layers=1,
                                       num_attention_heads=2, intermediate_size=64)
    transformers.Dinov2ForImageClassification(config).save_pretrained(tmp_path / "dinov2")
    model = explorer.load(f"hf:{tmp_path / 'dinov2'}", device="cpu")
    trace = model.run(IMAGE)
    with pytest.raises(TransformerAttributionUnavailable, match="follows the released code's ViT"):
        EXPLANATION_METHODS["transformer attribution"](model, trace, 0)
    assert "transformer attribution" not in applicable_methods(model) and "rollout" in applicable_methods(model)
