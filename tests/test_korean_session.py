"""What a Korean browser's session is told by the server: model pickers, the model card, a model
that is not on this machine, an upload that is not an image. No English sentence, no literal ``**``,
no path (issue 25, item 3)."""
from __future__ import annotations

import re

import numpy as np

import gradio as gr
import pytest
from markdown_it import MarkdownIt

from explorer.models.catalog import DEMO_LABEL, RANDOM_LABEL
from explorer.paths import python_command
from explorer.ui import handlers as h

UNCACHED = "ViT-B/16, original (in21k, fine-tuned in1k)"
ENGLISH_WORDS = re.compile(r"\b(the|is|are|not|could|weights|image|file|bundled|offline|needs|download)\b", re.I)


@pytest.fixture(scope="module")
def server(handler_server):
    return handler_server(DEMO_LABEL)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))


def korean(choice: str = DEMO_LABEL) -> h.Session:
    return h.Session(choice=choice, lang="ko")


def picker_labels(update: dict) -> dict[str, str]:
    return {value: label for label, value in update["choices"]}


def test_pickers_name_catalog_models_in_korean_and_mark_downloads_in_korean(server, offline):
    main, side = h.model_pickers(server, korean())
    labels = picker_labels(main)
    assert labels[DEMO_LABEL] == "데모 ViT (내장, 오프라인)"
    assert labels[RANDOM_LABEL] == "무작위 초기화 ViT-Ti/16 (학습 전 기준선)"
    assert labels[UNCACHED] == "ViT-B/16, 원본 (in21k, in1k 미세 조정) (내려받기 필요)"
    assert not any(ENGLISH_WORDS.search(label) for label in labels.values()), labels
    assert DEMO_LABEL not in picker_labels(side) and len(side["choices"]) == len(main["choices"]) - 1


def test_pickers_stay_english_for_an_english_session(server, offline):
    labels = picker_labels(h.model_pickers(server, h.Session(choice=DEMO_LABEL))[0])
    assert labels[DEMO_LABEL] == DEMO_LABEL and labels[UNCACHED] == f"{UNCACHED} (needs a download)"


def test_the_demo_model_card_says_where_its_weights_come_from_in_korean(server):
    card = h.model_status(server, korean())
    assert "내장 데모 가중치" in card and "bundled" not in card, card
    english = h.model_status(server, h.Session(choice=DEMO_LABEL))
    assert "the bundled demo weights" in english and "1 prefix token," in english and "(s)" not in english
    assert "patch16_224" not in card + english  # the registry name it is built through: not its 8-px, 64-px sizes


def test_an_uncached_model_is_one_short_korean_sentence_with_the_download_command(server, offline, monkeypatch):
    toasts = []
    monkeypatch.setattr(gr, "Warning", lambda message, **k: toasts.append(message))
    session = korean()
    kept, picker, status = h.select_model(server, UNCACHED, session)
    assert kept is session and picker == DEMO_LABEL and toasts == []
    first = status.split("\n")[0]
    assert first.startswith("**ViT-B/16, 원본 (in21k, in1k 미세 조정)** 모델을 불러오지 못했습니다.")
    assert f"`{python_command()} -m explorer download --models vit_base_patch16_224.orig_in21k_ft_in1k`" in first
    prose = first.replace(f"`{python_command()} -m explorer download --models vit_base_patch16_224.orig_in21k_ft_in1k`", "")
    assert not ENGLISH_WORDS.search(re.sub(r"<[^>]+>|\(in21k[^)]*\)", "", prose)), first
    assert "**" not in re.sub(r"<[^>]+>", "", MarkdownIt("commonmark").render(status)), status
    assert "/" not in re.sub(r"<[^>]+>", "", prose).replace("ViT-B/16", "") and "hf download" not in status
    assert len(first) < 260, len(first)


@pytest.mark.parametrize("data, words", [
    (b"this is not an image", "아는 이미지 형식이 아닙니다"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "읽을 수 없습니다"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG는 벡터 형식"),
])
def test_an_upload_that_is_not_an_image_is_refused_in_korean(server, data, words):
    with pytest.raises(gr.Error) as refused:
        h.analyze(server, data, korean())
    message = refused.value.message
    assert refused.value.title == "오류"  # the box's title too ("Error" before)
    assert words in message and not ENGLISH_WORDS.search(message.replace("PNG, JPEG, WebP, BMP, GIF, TIFF", "")), message


def test_a_maps_caption_and_the_head_and_class_pickers_speak_korean_and_send_the_api_names(server):
    """Issue 25: a method's name and settings in a map's caption, the head picker's "mean of heads" and
    "head 3", the class picker's "predicted class"; the values the pickers send stay the API's."""
    from explorer.paths import sample_images
    from explorer.ui.endpoints import call

    session, _, _ = h.analyze(server, str(sample_images()[0]), korean())
    *_, caption = call(server, "explanation")(session, "rollout", "max", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED)
    assert caption.startswith("롤아웃 (rollout) [헤드 결합 최대 (max), 버림 비율 0, 시작 블록 0]; 값 "), caption
    *_, english = call(server, "explanation")(h.Session(choice=DEMO_LABEL, handle=session.handle), "rollout", "max",
                                              0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED)
    assert english.startswith("rollout (head fusion max, discard ratio 0, start block 0); "), english
    heads, classes = h.named_choices(server, korean())
    assert heads["choices"][:2] == [("헤드 평균", h.HEAD_MEAN), ("헤드 0", "head 0")]
    assert classes["choices"][0] == ("예측한 클래스", h.PREDICTED)
    heads, classes = h.named_choices(server, h.Session(choice=DEMO_LABEL))
    assert heads["choices"][1] == ("head 0", "head 0") and classes["choices"][0] == (h.PREDICTED, h.PREDICTED)


def test_compares_curves_figure_is_drawn_with_korean_words(server, monkeypatch):
    """Issue 25: the curves beside the large map (a figure) speak the session's language: panel titles, axes,
    the method names in the legend and the title; English sessions get the English figure as before."""
    from explorer import render, views
    from explorer.paths import sample_images
    from explorer.ui.messages import speaking

    session, _, _ = h.analyze(server, str(sample_images()[0]), korean())
    model = server.models.get(DEMO_LABEL)
    *_, view = views.compare_steps(model, session.trace, sanity=False, methods={"rollout": {}, "random": {}})
    drawn = []
    real = render.curves_figure
    monkeypatch.setattr(render, "curves_figure", lambda curves, **kw: drawn.append(kw) or real(curves, **kw))
    for language in ("ko", "en"):
        with speaking(language):
            h._compare_pictures(view)
    korean_words, english_words = drawn[0]["words"], drawn[1]["words"]
    assert korean_words.titles["deletion"] == "삭제 (낮을수록 좋음)" and korean_words.probability == "그 클래스의 확률"
    assert korean_words.methods["rollout"] == "롤아웃" and drawn[0]["title"].startswith("설명하는 클래스: ")
    assert english_words == render.CurveWords(methods={"rollout": "rollout", "random": "random"})
    assert drawn[1]["title"] == f"explaining {view.target_label}"


def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_the_figures_a_class_reads_are_drawn_with_korean_words():
    """Issue 25: the heads, the head importance, the tour's patch vectors and the training accuracy
    figures take their words from the session's language (Figure 7's panels: see the test below)."""
    import threading

    import numpy as np

    from explorer import render
    from explorer.render.timeline import accuracy_figure
    from explorer.ui.messages import speaking

    with speaking("ko"):
        words = h.figure_words()
    assert all(any("가" <= c <= "힣" for c in getattr(words, f)) for f in words.__dataclass_fields__), words
    heads = _texts(render.head_attention_figure(np.random.rand(2, 4, 4), block=3, words=words))
    assert "헤드 0" in heads and "헤드별 클래스 토큰 어텐션, 블록 3" in heads, heads
    vectors = _texts(render.patch_vectors_figure(np.random.rand(16, 8), words.patch_vectors, words))
    assert {"이 이미지의 패치 벡터", "특징 (D = 8)", "패치 (N = 16)"} <= set(vectors), vectors
    importance = _texts(render.head_importance_figure(np.random.rand(2, 3), np.random.rand(2, 3), "ring", words=words))
    assert "헤드를 제거했을 때 p(ring)의 감소" in importance and "평균 어텐션 거리 (px)" in importance, importance
    for mode, said in (("zero", "0으로"), ("mean", "토큰 평균으로")):  # the way heads are switched off, in words
        view = h.views.HeadImportanceView(np.eye(2), np.ones((2, 2)), "ring", mode)
        texts = _texts(view.figure(words))
        assert f"헤드 중요도 (헤드를 {said} 끌 때)" in texts and not [t for t in texts if mode in t], texts
    from types import SimpleNamespace
    norms = SimpleNamespace(patches=np.random.rand(4, 4), outliers=[(0, 0)], threshold=0.5, prefix=[0.7, 0.3])
    tokens = _texts(render.token_norms_figure(norms, words=words))
    assert {"패치 토큰의 노름 (이상치에 동그라미)", "이상치 기준 0.5", "클래스 토큰", "노름", "패치 수"} <= set(tokens), tokens
    from explorer import load, views
    from explorer.paths import sample_images

    from unittest import mock

    demo, drawn = load("demo", device="cpu"), []
    original, here = render.attention_distance_figure, threading.get_ident()

    def draw(*args, **kwargs):  # this thread's (an earlier test's Training tab may still draw its steps ahead)
        figure = original(*args, **kwargs)
        if threading.get_ident() == here:
            drawn.append(figure)
        return figure

    with mock.patch.object(render, "attention_distance_figure", draw):
        views.tour_pictures(demo, demo.run(sample_images()[0]), "distance", (1, 1), words=words)  # step 6
    assert {"이 이미지", "평균 어텐션 거리", "균일한 어텐션"} <= set(_texts(drawn[0])), _texts(drawn[0])
    lens = _texts(render.logit_lens_figure(np.random.rand(3, 4), ["a", "b", "c", "d"], 0, words=words))
    assert "블록 (그 출력을 마지막 정규화와 헤드로 읽음)" in lens, lens
    accuracy = _texts(accuracy_figure([0, 10], [0.1, 0.9], 10, words))
    assert {"정확도", "학습 단계", "검증 정확도 (%)"} <= set(accuracy), accuracy
    distance = _texts(render.attention_distance_figure({"단계 0": np.ones((2, 3))}, uniform=1.0, words=words))
    assert {"평균 어텐션 거리", "네트워크 깊이 (블록)", "균일한 어텐션"} <= set(distance), distance
    english = _texts(render.head_attention_figure(np.random.rand(2, 4, 4), block=3))
    assert "head 0" in english and "Class-token attention per head, block 3" in english


def test_the_tour_and_the_head_ranking_pass_the_sessions_words(server, monkeypatch):
    """The handlers hand the figures the session's words: the tour's pictures, the heads, the ranking's
    "block 1 head 3"."""
    from explorer.paths import sample_images
    from explorer.ui.messages import speaking

    seen = []
    tour_pictures = h.views.tour_pictures
    monkeypatch.setattr(h.views, "tour_pictures", lambda *a, **k: seen.append(k["words"]) or tour_pictures(*a, **k))
    session, _, _ = h.analyze(server, str(sample_images()[0]), korean())
    with speaking("ko"):
        h.tour(server, session, 7)
        heads = h.heads(server, session, 0, "heat")
        ranking = h.show_head_importance(h.views.HeadImportanceView(np.eye(2), np.ones((2, 2)), "ring", "zero"))[-1]
    assert seen and seen[-1].answer == "모델의 답"
    assert heads.block == 0 and "블록 0 헤드 0 (+1.000)" in ranking and "block" not in ranking, ranking


def test_the_tables_waiting_for_a_run_have_korean_headers_from_the_page_load():
    """Compare's, surgery's, the distance and Side by side tables before their first run (the page is built
    in English; the page load gives them the session's headers)."""
    tables = h.empty_tables(korean())
    assert [len(t.columns) for t in tables] == [len(c) for c in (h.SURGERY_COLUMNS, h.COMPARE_COLUMNS,
                                                                 h.DISTANCE_COLUMNS, h.SIDE_COLUMNS)]
    assert all(not len(t) for t in tables)
    headers = [c for t in tables for c in t.columns]
    assert not any(ENGLISH_WORDS.search(c) for c in headers) and any("가" <= ch <= "힣" for ch in "".join(headers))
    assert list(h.empty_tables(h.Session(choice=DEMO_LABEL))[1].columns)[0] == "method"


def test_english_figure_words_are_the_figures_own_defaults():
    """The English language file and ``render.FigureWords`` say the same: the CLI and the API (no
    language) draw what an English page shows."""
    from explorer import render
    from explorer.ui.messages import speaking

    with speaking("en"):
        assert h.figure_words() == render.FigureWords()


ASCII_WORD = re.compile(r"[A-Za-z]{3,}")


def test_figure_7_panels_of_a_korean_session_have_no_english_text(tmp_path_factory, timeline, monkeypatch):
    """Issue 25, trial 4's finding 10: the filters, the position grid and the distance chart on the Model,
    Distance, Training and Side by side tabs and in the tour are drawn with Korean words (model names aside)."""
    import threading

    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from explorer.models import load_choice
    from explorer.paths import sample_images
    from explorer.ui import training_handlers as th
    from explorer.ui.cache import ModelCache
    from explorer.ui.messages import speaking
    from explorer.ui.policy import ServingPolicy
    from explorer.ui.sessions import TraceStore

    server = h.Server(ModelCache(lambda c: load_choice(c, device="cpu"), max_models=2), TraceStore(),
                      ServingPolicy(always=DEMO_LABEL), tmp_path_factory.mktemp("downloads"),
                      timelines={DEMO_LABEL: timeline})
    drawn: dict[str, list[str]] = {}
    here, savefig, tab = threading.get_ident(), Figure.savefig, ["?"]

    def recorded(fig, *args, **kwargs):  # this thread's figures only: the timeline is drawn ahead in English
        if threading.get_ident() == here:
            drawn.setdefault(tab[0], []).extend(t.get_text() for t in fig.findobj(Text) if t.get_text())
        return savefig(fig, *args, **kwargs)

    session, _, _ = h.analyze(server, str(sample_images()[0]), korean())
    with speaking("en"):
        th.training(server, session, 2)  # the step's panels as the app draws them ahead, in English
    monkeypatch.setattr(Figure, "savefig", recorded)
    side = []
    with speaking("ko"):
        for tab[0], run in {
            "model": lambda: h.show_model_views(h.model_views(server, session)),
            "distance": lambda: h.show_distance(h.distance(server, session)),
            "batch": lambda: h.distance_batch(server, None, True, session),
            "training": lambda: th.show_training(th.training(server, session, 2)),
            "side by side": lambda: side.append(h.show_side_by_side(h.side_by_side(server, session, RANDOM_LABEL, 0.1))),
            **{f"tour step {n}": (lambda n=n: h.tour(server, session, n)) for n in range(1, 9)},
        }.items():
            run()
    model = server.model(session)  # its name and its class names are the model's own words
    names = (DEMO_LABEL, RANDOM_LABEL, model.name, load_choice(RANDOM_LABEL).name, *model.labels, "ViT", "RGB")
    english = {where: [t for t in texts if ASCII_WORD.search(_without(t, names))] for where, texts in drawn.items()}
    assert set(drawn) >= {"model", "distance", "batch", "training", "side by side", "tour step 3", "tour step 8"}
    assert not any(english.values()), {where: texts for where, texts in english.items() if texts}
    assert {"위치 임베딩 유사도", "입력 패치의 행", "입력 패치의 열"} <= set(drawn["model"]), drawn["model"]
    assert any(t.startswith("RGB 임베딩 필터 (처음") for t in drawn["model"]), drawn["model"]
    assert "이 이미지" in drawn["distance"] and any(t.startswith("이미지 ") and t.endswith("장 묶음") for t in drawn["batch"])
    note = side[0][-2]  # which blocks the token colours are from, and the two input sizes (64 and 224 px)
    assert "블록 0–3 중" in note and "64픽셀과 224픽셀" in note, note


def _without(text: str, names) -> str:
    for name in names:
        text = text.replace(name, "")
    return text


def test_a_number_out_of_range_names_the_numbering_once_in_korean():
    """Trial 5: "이 모델의 클래스 번호 번호는" repeated the word that the filled-in name already ends with."""
    from explorer.ui.messages import speaking

    with speaking("ko"), pytest.raises(gr.Error) as refused:
        h._index(12, 8, "class")
    assert str(refused.value).strip("'\"") == "클래스 12: 범위 밖입니다. 이 모델의 클래스 번호는 0부터 7까지입니다."


def test_a_single_patch_guess_says_what_chance_gets_without_rounding_it_to_zero():
    """Trial 5: one patch of 64 read "무작위로 고르면 평균 0.0개" (1/64 rounded to one decimal)."""
    from types import SimpleNamespace

    from explorer.analyses.guess import GuessScore
    from explorer.ui.messages import speaking

    view = SimpleNamespace(score=GuessScore(k=1, iou=0.0, pointing_rank=9, chance_overlap=1 / 64, overlap=0),
                           trace=SimpleNamespace(grid=(8, 8)))
    with speaking("ko"):
        assert "평균 0.02개" in h.guess_note(view)
    with speaking("en"):
        view.score = GuessScore(k=8, iou=0.1, pointing_rank=2, chance_overlap=1.0, overlap=2)
        assert "1.0" in h.guess_note(view) and "a random guess of 8 patches" in h.guess_note(view)  # not "patchs"
        view.score = GuessScore(k=1, iou=0.1, pointing_rank=2, chance_overlap=1 / 64, overlap=0)
        assert "a random guess of 1 patch includes" in h.guess_note(view)


def test_a_mistyped_model_name_is_refused_in_korean_with_the_close_names(server):
    """Trial 9 typed "hello world" into the picker of a Korean page: "…(자세한 내용은 영어): timm has no model
    called 'hello world'." The name and the close ones stay as typed; the sentence is Korean."""
    _, _, status = h.select_model(server, "vit_tiny_patch16_22", korean())
    assert "'vit_tiny_patch16_22': timm에 이런 이름의 모델이 없습니다. 비슷한 이름: vit_tiny_patch16_224" in status, status
    assert "영어" not in status and "has no model" not in status, status
    _, _, status = h.select_model(server, "hello world", korean())
    assert "timm에 이런 이름의 모델이 없습니다." in status and "비슷한" not in status, status
