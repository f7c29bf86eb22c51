"""Every endpoint of the app, declared once: its API name, its named inputs and its outputs.

``app._wire`` connects the page from this list, the API's parameter names come from it,
``explorer.loadtest`` reads what each endpoint takes and returns from it, the endpoint tests
check the running app against it, and ``python -m explorer.ui.endpoints`` prints the README's
endpoint table from it. Adding an endpoint is one :class:`Endpoint` here and its handler in
``handlers.py`` (plus its components in the layout, named as declared).

An input is ``"name"`` (the page's component ``ui.name`` and the API parameter ``name``) or
``"name=component"`` when the parameter's name differs from the component's (three tabs have
a ``block`` slider). Outputs are ``(component, kind)`` pairs; the kinds are those of
:data:`KINDS`.
"""
from __future__ import annotations

import inspect
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable

import gradio as gr

from .. import views
from . import handlers as h
from . import room_handlers as rh
from . import training_handlers as th
from .. import pacing
from .budget import Work, admitted
from ..errors import NotApplicableError

KINDS = ("state", "image", "text", "label", "number", "table", "gallery", "files", "choices", "visibility")


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint and the page event(s) that call it.

    ``view`` endpoints build a :class:`~explorer.views.View` (``handler(server, **inputs)``) and
    ``present`` turns it into the outputs (default: its pictures); with ``download`` the same view
    is also written to files by ``/download_<name>``. Other endpoints' handlers return the
    outputs themselves. ``triggers`` are ``"component.event"``; ``None`` means each input's own
    event (a slider's release, a number's input, any other's change); ``()`` an API-only endpoint.
    ``after_image``: the page reruns it (privately) after every new image."""

    name: str
    handler: Callable
    inputs: tuple[str, ...]
    outputs: tuple[tuple[str, str], ...]
    view: bool = False
    present: Callable | None = None
    download: str | None = None  # the download endpoint's name, for a view endpoint that has one
    writes: bool = False  # a download endpoint itself: its output is the view's files
    triggers: tuple[str, ...] | None = None
    after_image: bool = False
    concurrency: int = 4
    progress: gr.Progress | None = None  # handlers that report progress get this as ``progress``
    request: bool = False  # the handler takes the gr.Request as ``request``
    aliases: tuple[str, ...] = ()  # earlier API names still answered (undocumented)
    work: Callable | None = None  # work(server, **inputs) -> budget.Work | None: its memory and weight
    stream: bool = False  # the handler yields its outputs as they grow (each yield updates the page)
    drawn_sentence: bool = True  # a not-applicable sentence is also drawn as the first picture (else: the text only)

    @property
    def params(self) -> list[str]:
        """The handler's keyword names, in the order of ``inputs``."""
        return [i.split("=")[0] for i in self.inputs]

    @property
    def components(self) -> list[str]:
        return [i.split("=")[-1] for i in self.inputs]

    @property
    def api_inputs(self) -> list[str]:
        """The parameters an API client sends (the session is Gradio's state, not sent)."""
        return [p for p in self.params if p != "session"]

    @property
    def api_outputs(self) -> list[tuple[str, str]]:
        """What an API client gets back, in order (state and a column's visibility are not returned)."""
        return [(name, kind) for name, kind in self.outputs if kind not in ("state", "visibility")]

    def call(self, server: h.Server) -> Callable:
        """The function the page and the API run: the inputs by name, errors in the user's language."""
        if self.stream:
            return self._signed(self._streamed(server), self.name)
        present = self.present or (lambda view: view.pictures())

        @h.user_errors
        def answer(**named):
            work = self._work(server, named)
            with self._admitted(server, work):
                try:
                    result = self._run(server, work)(self.handler, server, **named)
                except NotApplicableError as exc:  # e.g. attention of a CNN: the panel says why instead
                    if not self.view or self.writes:
                        raise
                    return self.not_applicable(exc)
            if self.writes:
                return h.write_view(server, result)
            out = present(result) if self.view else result
            return out[0] if len(self.outputs) == 1 and isinstance(out, tuple) else out  # one output: no tuple

        return self._signed(lambda *values, **special: answer(**self._named(values, special)),
                            self.name)

    def not_applicable(self, exc: NotApplicableError):
        """A view's outputs when it does not apply to the session's model (a CNN has no attention): the
        sentence, in the user's language, as its first picture and its text; the other outputs empty, and
        those that are also inputs (a patch's row and column) left alone."""
        sentence = h.safe.explain(exc)[0]
        out, pictured = [], False
        for name, kind in self.outputs:
            if kind == "image" and not pictured and self.drawn_sentence:
                out.append(h.sentence_picture(sentence))
                pictured = True
            elif kind == "text" and name not in self.components:
                out.append(sentence)
            elif kind in ("image", "label", "table", "gallery") and name not in self.components:
                out.append(None)
            else:
                out.append(gr.skip())
        return out[0] if len(out) == 1 else tuple(out)

    def download_call(self, server: h.Server) -> Callable:
        """The download endpoint: the same inputs, the view's files."""

        @h.user_errors
        def answer(**named):
            work = self._work(server, named)
            with self._admitted(server, work):
                return h.write_view(server, self._run(server, work)(self.handler, server, **named))

        return self._signed(lambda *values, **special: answer(**self._named(values, special)),
                            self.download)

    def _streamed(self, server: h.Server) -> Callable:
        """A generator function for a streaming handler: the budget is held from the first step to the
        last (or to a cancel, which closes the generator), each step runs paced and in the user's
        language (Gradio may run each step in another thread, so both are set again per step)."""

        def run(*values, **special):
            named = self._named(values, special)
            step = h.user_errors(lambda session, steps: next(steps, None))
            session = named.get("session")
            work = h.user_errors(lambda session: self.work(server, **named) if self.work else None)(session)
            h.user_errors(lambda session: server.budget.check(work or Work()))(session)
            with server.budget.reserve(work or Work()) as items:
                steps = self.handler(server, **named)
                heavy = work is not None and work.heavy
                while True:
                    with pacing.paced(server.turns.yield_to_light if heavy else None, items):
                        out = self._run(server, work)(step, session, steps)
                    if out is None:
                        break
                    yield out

        return run

    def _work(self, server: h.Server | None, named: dict) -> Work | None:
        """The request's working memory and weight (None: light work, or no server)."""
        return self.work(server, **named) if self.work and server is not None else None

    def _admitted(self, server: h.Server | None, work: Work | None):
        """The request under the server's memory budget and turns (none without a server: a test
        calling a view that needs no model)."""
        return nullcontext() if server is None else admitted(server.budget, server.turns, work)

    @staticmethod
    def _run(server: h.Server | None, work: Work | None) -> Callable:
        """How to call the handler: heavy work on the server's low-priority threads, the rest here."""
        if server is not None and work is not None and work.heavy:
            return server.heavy.run
        return lambda fn, *args, **kwargs: fn(*args, **kwargs)

    @property
    def _specials(self) -> list[str]:
        """What Gradio passes after the inputs: the progress tracker, the request (in this order)."""
        return ["progress"] * (self.progress is not None) + ["request"] * self.request

    def _named(self, values: tuple, special: dict) -> dict:
        """The handler's keywords from Gradio's positional values (inputs, then the specials) and any
        keywords a Python caller gave."""
        return {**dict(zip([*self.params, *self._specials], values)), **special}

    def _signed(self, run: Callable, name: str) -> Callable:
        """``run`` with a signature naming the inputs (Gradio's API page and clients read it). The
        progress tracker and the request are positional too: Gradio passes its special arguments
        only to positional parameters (``helpers.special_args``), and leaves the API's alone."""
        params = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in self.params]
        if self.progress is not None:
            params.append(inspect.Parameter("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=self.progress))
        if self.request:
            params.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                            annotation=gr.Request))
            run.__annotations__ = {"request": gr.Request}
        run.__signature__ = inspect.Signature(params)
        run.__name__ = run.__qualname__ = name
        run.__doc__ = (self.handler.__doc__ or "").strip().split("\n\n")[0]
        return run


def _images(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, "image") for n in names)


OPTION_INPUTS = tuple(o.name for o in h.OPTIONS)  # every method option, by the registry's names

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("select_model", h.select_model, ("choice=model_pick", "session"),
             (("session", "state"), ("model_pick", "text"), ("model_status", "text")),
             triggers=("model_pick.input",), progress=gr.Progress(track_tqdm=True)),
    Endpoint("analyze", h.new_image, ("image=image_in", "session"),
             (("session", "state"), ("prediction", "label"), ("seen", "image"), ("query_row", "number"),
              ("query_col", "number")),
             triggers=("image_in.input",), request=True, work=h.analyze_work),
    # the first screen's map, first after every image: the rollout beside the picture
    Endpoint("where", h.where, ("session",), _images("where"), view=True, present=h.show_where, triggers=(),
             after_image=True),
    Endpoint("tour", h.tour, ("session", "step=tour_step"),
             tuple((f"tour_text_{s}", "visibility") for s in views.TOUR_STEPS)
             + _images(*(f"tour_picture_{i}" for i in range(h.TOUR_PICTURES))) + (("tour_note", "text"),),
             triggers=("tour_step.change",), after_image=True),
    Endpoint("tokens", h.tokens, ("session", "block=tokens_block", "foreground=tokens_foreground", "target"),
             _images("tokens_pca", "tokens_similarity", "tokens_norms", "tokens_lens") + (("tokens_note", "text"),),
             view=True, present=h.show_tokens, download="download_tokens", after_image=True, work=h.tokens_work,
             triggers=("tokens_block.release", "tokens_foreground.input")),  # and the class box: app._wire_page
    Endpoint("explanation", h.explanation, ("session", "method", *OPTION_INPUTS, "alpha", "cmap", "target"),
             _images("explanation_mask", "explanation_heat") + (("explanation_caption", "text"),),
             view=True, present=h.show_explanation, download="download_explanation", after_image=True,
             aliases=("rollout",), work=h.explanation_work),
    Endpoint("prompts", h.prompts, ("session", "method=prompt_method", *OPTION_INPUTS, "alpha", "cmap", "prompts"),
             (("prompt_gallery", "gallery"), ("prompt_note", "text")), view=True, present=h.show_prompts,
             download="download_prompts", triggers=("prompt_run.click", "prompts.submit"), work=h.prompts_work),
    Endpoint("guess", h.guess, ("session", "patches=guess_patches", "about=guess_about", "row=query_row",
                                "col=query_col"), _images("guess_image"),
             triggers=("guess_patches.change", "guess_about.change", "query_row.change", "query_col.change"),
             after_image=True),
    Endpoint("reveal", h.reveal, ("session", "patches=guess_patches", "method", *OPTION_INPUTS, "alpha", "cmap",
                                  "target", "about=guess_about", "block=guess_block", "row=query_row",
                                  "col=query_col"),
             _images("reveal_image") + (("reveal_note", "text"),), view=True, present=h.show_reveal,
             download="download_reveal", triggers=("guess_reveal.click",), work=h.explanation_work,
             drawn_sentence=False),  # the guess's refusal in the note under Reveal: drawn, 7-px text on a phone
    Endpoint("query", h.query, ("session", "block=query_block", "head=query_head", "row=query_row",
                                "col=query_col", "alpha", "cmap"),
             _images("query_image", "query_attention", "query_rollout") + (("query_row", "number"),
                                                                          ("query_col", "number")),
             view=True, present=h.show_query, download="download_query", after_image=True),
    Endpoint("surgery", h.surgery, ("session", "patches=surgery_patches", "mode=surgery_mode", "row=surgery_row",
                                    "col=surgery_col"),
             _images("surgery_image", "surgery_rollout", "surgery_lens", "surgery_attention")
             + (("surgery_table", "table"), ("surgery_note", "text"), ("surgery_row", "number"),
                ("surgery_col", "number")),
             view=True, present=h.show_surgery, download="download_surgery", after_image=True, work=h.surgery_work,
             triggers=("surgery_patches.submit", "surgery_mode.change", "surgery_row.input", "surgery_col.input")),
    Endpoint("surgery_preset", h.surgery_preset, ("session", "preset=surgery_preset"), (("surgery_patches", "text"),),
             triggers=()),
    Endpoint("heads", h.heads, ("session", "block=heads_block", "style=heads_style"), _images("heads"),
             view=True, present=h.show_heads, download="download_heads", after_image=True),
    Endpoint("distance", h.distance, ("session",),
             (("distance", "image"), ("distance_table", "table"), ("distance_note", "text")),
             view=True, present=h.show_distance, download="download_distance", triggers=(), after_image=True),
    Endpoint("distance_batch", h.distance_batch, ("files=batch_files", "use_samples", "session"),
             (("session", "state"), ("distance", "image"), ("distance_table", "table"), ("distance_note", "text")),
             triggers=("batch_run.click",), concurrency=2, progress=gr.Progress(), work=h.distance_batch_work),
    Endpoint("model_views", h.model_views, ("session",), _images("filters_pca", "filters_raw", "position"),
             view=True, present=h.show_model_views, download="download_model", triggers=()),
    Endpoint("training", th.training, ("session", "step=training_step"),
             _images("training_filters", "training_position", "training_distance", "training_accuracy",
                     "training_rollout") + (("training_prediction", "label"), ("training_note", "text")),
             view=True, present=th.show_training, download="download_training", triggers=("training_step.release",),
             after_image=True, work=th.training_work),
    Endpoint("compare", h.compare, ("session", "target", "fill=compare_fill", "sanity=compare_sanity", "cmap",
                                    "quick=compare_quick"),
             (("session", "state"), ("compare_gallery", "gallery"), ("compare_table", "table"),
              ("compare_large", "image"), ("compare_curves", "image"), ("compare_note", "text")),
             triggers=("compare_run.click",), concurrency=2, work=h.compare_work, stream=True),
    Endpoint("download_compare", h.compared, ("session",), (("compare_files", "files"),),
             view=True, writes=True, triggers=("compare_download.click",)),
    Endpoint("head_importance", h.head_importance, ("session", "mode=ablation", "target"),
             (("importance", "image"), ("importance_note", "text")), view=True, present=h.show_head_importance,
             download="download_head_importance", triggers=("importance_run.click",), concurrency=2,
             progress=gr.Progress(), work=h.head_importance_work),
    Endpoint("side_by_side", h.side_by_side, ("session", "other=side_model", "fraction=side_fraction",
                                              "method=side_method"),
             _images("side_rollout_left", "side_rollout_right", "side_pca_left", "side_pca_right",
                     "side_position_left", "side_position_right", "side_distance")
             + (("side_note", "text"), ("side_scores", "table")),
             view=True, present=h.show_side_by_side, download="download_side_by_side",
             triggers=("side_run.click", "side_fraction.release"),
             concurrency=2, progress=gr.Progress(track_tqdm=True), work=h.side_by_side_work),
    # a class room: the teacher's actions (with the room's secret key), then a student's
    Endpoint("room_open", rh.room_open, ("session",), (("room_code", "text"), ("room_key", "text"),
                                                       ("room_links", "text")),
             triggers=("room_open_button.click",), request=True),
    Endpoint("room_image", rh.room_image, ("session", "code=room_code", "key=room_key"), (("room_note", "text"),),
             triggers=("room_image_button.click",)),
    Endpoint("room_reveal", rh.room_reveal, ("session", "code=room_code", "key=room_key", "shown=room_shown"),
             (("room_note", "text"),), triggers=("room_shown.input",)),
    Endpoint("room_board", rh.room_board_view, ("code=room_code", "key=room_key"),
             _images("room_class", "room_model", "room_votes") + (("room_answers", "table"), ("room_summary", "text")),
             view=True, present=rh.show_board, download="download_room", triggers=()),
    Endpoint("room_join", rh.room_join, ("session", "code=join_code", "nickname=room_nickname"),
             (("session", "state"), ("room_picture", "image"), ("room_label", "choices"), ("room_patches", "text"),
              ("room_status", "text")), triggers=("room_join_button.click",)),
    Endpoint("room_guess", rh.room_guess, ("session", "patches=room_patches", "label=room_label"),
             (("room_status", "text"),), triggers=("room_send.click",)),
    Endpoint("room_look", rh.room_look, ("session", "patches=room_patches"),
             (("session", "state"), ("room_picture", "image"), ("room_answer", "image"), ("room_patches", "text"),
              ("room_status", "text")), triggers=("room_patches.submit",)),
)

BY_NAME = {e.name: e for e in ENDPOINTS}


def call(server: h.Server, api_name: str) -> Callable:
    """The function that ``/api_name`` runs (an endpoint, its download or an earlier name), to call
    from Python with the inputs in declared order: ``call(server, "/heads")(session, 3, "heat")``."""
    name = api_name.lstrip("/")
    for e in ENDPOINTS:
        if name == e.name or name in e.aliases:
            return e.call(server)
        if e.download and (name == e.download or name in (f"download_{a}" for a in e.aliases)):
            return e.download_call(server)
    raise KeyError(f"no endpoint /{name}; the app has {', '.join(sorted(api_names()))}")


def api_names() -> set[str]:
    """Every documented API name ("/explanation", "/download_heads", ...)."""
    return {f"/{e.name}" for e in ENDPOINTS} | {f"/{e.download}" for e in ENDPOINTS if e.download}


def markdown_table() -> str:
    """The README's endpoint table: each endpoint with what a client sends and gets back."""
    rows = ["| endpoint | sends | gets back |", "| --- | --- | --- |"]
    for e in ENDPOINTS:
        sends = ", ".join(f"`{p}`" for p in e.api_inputs) or "nothing"
        gets = ", ".join(f"{kind} (`{name}`)" for name, kind in e.api_outputs)
        rows.append(f"| `/{e.name}` | {sends} | {gets} |")
        if e.download:
            rows.append(f"| `/{e.download}` | {sends} | the view's files (PNG, SVG, PDF, .npz) |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
