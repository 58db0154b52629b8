import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import constructions


class EmptyParameterList(Rule):
    """An empty list or tuple passed as an optimizer's parameters (`SGD([], lr=0.1)`, `Adam(list())`).

    Usually a placeholder left behind, or parameters meant to be filled in later with
    `add_param_group`: torch refuses to build an optimizer with nothing to optimize.
    """

    code = "OPT010"

    VALID = (
        Valid("""
            import torch
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
        """),
        Valid("""
            import torch
            params = []
            params.append(w)
            opt = torch.optim.SGD(params, lr=0.1)
        """),
        Valid("""
            import torch
            opt = torch.optim.SGD([{'params': []}, {'params': w}], lr=0.1)
        """),
        Valid("""
            import torch
            opt = torch.optim.SGD(list(model.parameters()), lr=0.1)
        """),
        # A local `list` is not the builtin.
        Valid("""
            import torch
            def list():
                return [w]
            opt = torch.optim.SGD(list(), lr=0.1)
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.SGD([], lr=0.1)
        """, at="2:23"),
        Invalid("""
            from torch.optim import Adam
            opt = Adam(params=(), lr=1e-3)
        """, at="2:20"),
        Invalid("""
            import torch.optim as optim
            opt = optim.AdamW(list(), lr=1e-3)
        """, at="2:19"),
        Invalid("""
            import torch.optim as optim
            opt = optim.AdamW(tuple(), lr=1e-3)
        """, at="2:19"),
    )

    def check(self, ctx) -> None:
        for construction in constructions(ctx.model):
            params = construction.params
            if params is not None and _is_empty(ctx.model, params, construction.scope):
                ctx.report(
                    params,
                    f"`{construction.cls}` is given an empty parameter list: torch raises ValueError"
                    " (optimizer got an empty parameter list).",
                    hint="Pass the parameters to train (`model.parameters()`), or build the optimizer once they exist.",
                )


def _is_empty(model, params: cst.BaseExpression, scope) -> bool:
    if isinstance(params, (cst.List, cst.Tuple)):
        return not params.elements
    if isinstance(params, cst.Call) and not params.args:
        return model.builtin_name(params.func, scope) in ("list", "tuple")
    return False
