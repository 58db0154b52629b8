"""Shared by OPT001 and OPT002: a torch class called with a keyword its constructor does not take."""

from __future__ import annotations

from optlint.spelling import close_match, renaming_is_the_fix
from optlint.static.rule import Replace, Rule
from optlint.static.semantic import spans, versions_accepting


class UnknownKeywordRule(Rule):
    kind: str  # "optimizer" or "scheduler"

    def check(self, ctx) -> None:
        model = ctx.model
        for site in model.calls:
            resolved = model.torch_class(site.node.func, site.scope)
            if resolved is None or resolved[0] != self.kind:
                continue
            cls = resolved[1]
            signature = ctx.facts.signature(f"{_module(self.kind)}.{cls}")
            if signature["var_keyword"]:
                continue
            given = {a.keyword.value for a in site.node.args if a.keyword is not None}
            for arg in site.node.args:
                if arg.keyword is None or arg.keyword.value in signature["keywords"]:
                    continue
                self._report(ctx, cls, arg.keyword, signature["keywords"], given)

    def _report(self, ctx, cls, keyword, valid, given) -> None:
        name = keyword.value
        suggestion = close_match(name, valid)
        message = f"`{cls}()` has no keyword `{name}`: {_who_raises(ctx.facts, f'{_module(self.kind)}.{cls}', name)}."
        if suggestion is not None and suggestion not in given:
            if not renaming_is_the_fix(name):
                ctx.report(keyword, f"{message} Did you mean `{suggestion}`?",
                           hint=f"Write `{suggestion}=(...)`: it takes the values as one tuple.")
                return
            ctx.report(keyword, f"{message} Did you mean `{suggestion}`?", hint=f"Write `{suggestion}=`.",
                       fix=f"Rename `{name}` to `{suggestion}`", edits=[Replace(keyword, suggestion)])
            return
        shown = ", ".join(f"`{k}`" for k in valid if k not in ("params", "optimizer"))
        ctx.report(keyword, message, hint=f"Remove `{name}=`. `{cls}` accepts: {shown}.")


def _who_raises(target, qualname: str, keyword: str) -> str:
    """Names the target release when another known release takes the keyword (`verbose=` until 2.6)."""
    accepting = versions_accepting(qualname, keyword)
    if not accepting:
        return "torch raises TypeError (unexpected keyword argument)"
    return (f"torch {target.minor} raises TypeError (unexpected keyword argument; "
            f"torch {spans(accepting)} accept it)")


def _module(kind: str) -> str:
    return "torch.optim" if kind == "optimizer" else "torch.optim.lr_scheduler"
