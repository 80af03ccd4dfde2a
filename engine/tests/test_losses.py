"""Each loss against values computed by hand on fixed tensors, and its gradient against finite differences."""

from __future__ import annotations

import math

import pytest
import torch

from keiko_engine.losses import LossSpec, Norm, k3, policy_loss

D = torch.float64


def t(x):
    return torch.tensor(x, dtype=D)


def norm_of(mask, max_tokens=None):
    return Norm(sequences=mask.shape[0], tokens=int(mask.sum()), max_tokens=max_tokens or mask.shape[1])


def test_sft_is_mean_nll_over_masked_tokens():
    logp = t([[0.0, -1.0, -2.0, -3.0], [0.0, -0.5, -9.0, -9.0]])
    mask = t([[0, 1, 1, 0], [0, 1, 0, 0]])
    out = policy_loss(logp, mask, torch.zeros_like(logp), LossSpec(type="sft"), norm_of(mask))
    assert float(out.loss) == pytest.approx((1 + 2 + 0.5) / 3)


def test_grpo_clips_asymmetrically_and_counts_clipped_tokens():
    # seq 0: A=+1, token ratios 1.5 (clipped at 1+eps_high=1.3) and 1.1 (not clipped)
    # seq 1: A=-1, token ratio 0.5 (clipped at 1-eps_low=0.8) -> -min(-0.5, -0.8) = 0.8
    sampler = t([[0.0, -1.0, -1.0], [0.0, -1.0, 0.0]])
    logp = sampler + t([[0.0, math.log(1.5), math.log(1.1)], [0.0, math.log(0.5), 0.0]])
    mask = t([[0, 1, 1], [0, 1, 0]])
    adv = t([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])
    spec = LossSpec(type="grpo", eps_low=0.2, eps_high=0.3)
    out = policy_loss(logp, mask, adv, spec, norm_of(mask), sampler_logp=sampler)
    seq0 = -(1.3 + 1.1) / 2  # per-sequence token mean
    seq1 = 0.8
    assert float(out.loss) == pytest.approx((seq0 + seq1) / 2)
    assert out.clipped == 2 and out.clip_den == 3


def test_token_level_normalisations():
    sampler = t([[0.0, -1.0, -1.0, -1.0], [0.0, -1.0, 0.0, 0.0]])
    logp = sampler.clone()  # ratio 1 everywhere: per-token loss = -A
    mask = t([[0, 1, 1, 1], [0, 1, 0, 0]])
    adv = t([[2.0] * 4, [-1.0] * 4])
    per_tok_sum = -(2 * 3) + 1  # = -5
    n = norm_of(mask)
    dapo = policy_loss(logp, mask, adv, LossSpec(type="dapo"), n, sampler_logp=sampler)
    bnpo = policy_loss(logp, mask, adv, LossSpec(type="bnpo"), n, sampler_logp=sampler)
    grpo = policy_loss(logp, mask, adv, LossSpec(type="grpo"), n, sampler_logp=sampler)
    dr = policy_loss(logp, mask, adv, LossSpec(type="dr_grpo", max_tokens=10), norm_of(mask, 10), sampler_logp=sampler)
    assert float(dapo.loss) == pytest.approx(per_tok_sum / 4)
    assert float(bnpo.loss) == pytest.approx(per_tok_sum / 4)
    assert float(grpo.loss) == pytest.approx((-2 + 1) / 2)
    assert float(dr.loss) == pytest.approx(per_tok_sum / (2 * 10))


def test_k3_kl_term_and_value():
    logp = t([[0.0, -1.0, -2.0]])
    ref = t([[0.0, -1.5, -1.0]])
    mask = t([[0, 1, 1]])
    d = [-0.5, 1.0]
    expect_k3 = [math.exp(x) - x - 1 for x in d]
    assert k3(logp, ref)[0, 1:].tolist() == pytest.approx(expect_k3)
    beta = 0.1
    out = policy_loss(logp, mask, torch.zeros_like(logp), LossSpec(type="dapo", kl_beta=beta), norm_of(mask), ref_logp=ref)
    assert float(out.loss) == pytest.approx(beta * sum(expect_k3) / 2)
    assert out.kl_sum == pytest.approx(sum(expect_k3))


def test_truncated_importance_sampling_weights_on_policy():
    logp = t([[0.0, -1.0, -1.0]])
    sampler = t([[0.0, -2.0, -0.5]])  # pi/pi_sampler = e^1 (capped at 2) and e^-0.5
    mask = t([[0, 1, 1]])
    adv = t([[1.0, 1.0, 1.0]])
    spec = LossSpec(type="dapo", is_correction="truncated", is_cap=2.0)
    on = torch.tensor([True])
    out = policy_loss(logp, mask, adv, spec, norm_of(mask), sampler_logp=sampler, on_policy=on)
    # on-policy: old = the detached current policy, so the ratio is 1 and the loss per token is -A * w
    assert float(out.loss) == pytest.approx(-(2.0 + math.exp(-0.5)) / 2)
    assert out.clipped == 0
    with pytest.raises(ValueError):
        policy_loss(logp, mask, adv, spec, norm_of(mask))


def test_stale_sequences_clip_against_the_sampler_and_carry_no_is_weight():
    logp = t([[0.0, -1.0, -1.0]])
    sampler = t([[0.0, -2.0, -0.5]])  # ratio pi/pi_sampler = e^1 (clipped at 1.28 for A > 0) and e^-0.5 (not clipped)
    mask = t([[0, 1, 1]])
    adv = t([[1.0, 1.0, 1.0]])
    expect = -(1.28 + math.exp(-0.5)) / 2
    for correction in ("none", "truncated"):
        spec = LossSpec(type="dapo", eps_high=0.28, is_correction=correction, is_cap=2.0)
        for on in (torch.tensor([False]), None):  # an unknown policy version counts as stale
            out = policy_loss(logp, mask, adv, spec, norm_of(mask), sampler_logp=sampler, on_policy=on)
            assert float(out.loss) == pytest.approx(expect)
            assert out.clipped == 1
    # eps_high changes the loss of a stale batch (it never did with the ratio taken against the current policy)
    loose = policy_loss(logp, mask, adv, LossSpec(type="dapo", eps_high=0.5), norm_of(mask), sampler_logp=sampler, on_policy=torch.tensor([False]))
    assert float(loose.loss) == pytest.approx(-(1.5 + math.exp(-0.5)) / 2)


def test_on_policy_without_correction_never_clips():
    logp = t([[0.0, -1.0, -1.0]])
    sampler = t([[0.0, -2.0, -0.5]])
    mask = t([[0, 1, 1]])
    adv = t([[1.0, 1.0, 1.0]])
    out = policy_loss(logp, mask, adv, LossSpec(type="dapo"), norm_of(mask), sampler_logp=sampler, on_policy=torch.tensor([True]))
    assert float(out.loss) == pytest.approx(-1.0)
    assert out.clipped == 0


def test_mixed_batch_treats_each_sequence_by_its_own_version():
    logp = t([[0.0, -1.0], [0.0, -1.0]])
    sampler = t([[0.0, -2.0], [0.0, -2.0]])  # pi/pi_sampler = e^1 in both rows
    mask = t([[0, 1], [0, 1]])
    adv = t([[1.0, 1.0], [1.0, 1.0]])
    spec = LossSpec(type="dapo", is_correction="truncated", is_cap=2.0, eps_high=0.2)
    out = policy_loss(logp, mask, adv, spec, norm_of(mask), sampler_logp=sampler, on_policy=torch.tensor([True, False]))
    # row 0 (on-policy): ratio 1, w = min(e, 2) = 2 -> -2; row 1 (stale): ratio e clipped at 1.2, w = 1 -> -1.2
    assert float(out.loss) == pytest.approx(-(2.0 + 1.2) / 2)
    assert out.clipped == 1


def test_gspo_uses_the_clipped_sequence_ratio():
    sampler = t([[0.0, -1.0, -1.0], [0.0, -1.0, -1.0]])
    # seq 0 token log-ratios 0.4 and 0.2: s = exp(0.3) = 1.35 > 1+eps -> clipped at 1.2 with A>0
    # seq 1 token log-ratios 0.1, -0.1: s = 1, A = -2 -> loss 2
    logp = sampler + t([[0.0, 0.4, 0.2], [0.0, 0.1, -0.1]])
    mask = t([[0, 1, 1], [0, 1, 1]])
    adv = t([[1.0] * 3, [-2.0] * 3])
    out = policy_loss(logp, mask, adv, LossSpec(type="gspo", eps_low=0.2, eps_high=0.2), norm_of(mask), sampler_logp=sampler)
    assert float(out.loss) == pytest.approx((-1.2 + 2.0) / 2)
    assert out.clipped == 1 and out.clip_den == 2


def test_masked_positions_do_not_matter():
    logp = t([[0.0, -1.0, -50.0]])
    sampler = t([[0.0, -1.0, 123.0]])  # junk at an unmasked position must not produce NaN/inf
    mask = t([[0, 1, 0]])
    out = policy_loss(logp, mask, t([[1.0] * 3]), LossSpec(type="grpo"), norm_of(mask), sampler_logp=sampler)
    assert float(out.loss) == pytest.approx(-1.0)


@pytest.mark.parametrize(
    "spec",
    [
        LossSpec(type="sft"),
        LossSpec(type="grpo", kl_beta=0.05),
        LossSpec(type="dr_grpo", max_tokens=6),
        LossSpec(type="dapo", eps_high=0.28, is_correction="truncated", is_cap=3.0),
        LossSpec(type="bnpo"),
        LossSpec(type="gspo", kl_beta=0.1),
    ],
    ids=lambda s: s.type,
)
def test_gradient_matches_finite_differences(spec):
    g = torch.Generator().manual_seed(0)
    b, tlen, v = 2, 5, 7
    logits = torch.randn(b, tlen, v, generator=g, dtype=D, requires_grad=True)
    ids = torch.randint(0, v, (b, tlen), generator=g)
    mask = t([[0, 1, 1, 1, 0], [0, 0, 1, 1, 1]])
    adv = t([[0.7] * tlen, [-1.3] * tlen])
    with torch.no_grad():
        base = torch.log_softmax(logits, -1).gather(-1, ids[..., None]).squeeze(-1)
        # sampler/ref logprobs near the policy, away from the clip boundaries
        sampler = base + 0.03 * torch.randn(b, tlen, generator=g, dtype=D)
        ref = base + 0.3 * torch.randn(b, tlen, generator=g, dtype=D)
    n = norm_of(mask, 6)

    def f(lg):
        lp = torch.log_softmax(lg, -1).gather(-1, ids[..., None]).squeeze(-1)
        return policy_loss(lp, mask, adv, spec, n, sampler_logp=sampler, ref_logp=ref).loss

    assert torch.autograd.gradcheck(f, (logits,), eps=1e-6, atol=1e-6)
    # and the gradient is not trivially zero
    (grad,) = torch.autograd.grad(f(logits), logits)
    assert float(grad.abs().sum()) > 1e-3
