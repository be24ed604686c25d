"""The access module's own mechanics: unknown questions answer no, rules follow the object's class,
anonymous users reach the rules as None, platform admins pass, hidden objects answer 404."""
import pytest
from werkzeug.exceptions import NotFound

from marche.accounts.models import User
from marche.core import access


class Document:
    pass


class Invoice(Document):
    pass


class Unrelated:
    pass


def person(**fields) -> User:
    """A real (unsaved) user: Flask-Login reads `active` for `is_authenticated`."""
    return User(email="p@example.fr", active=True, is_platform_admin=False, **fields)


SEEN: list = []
RULES = access.RuleSet()


@RULES.rule("mutants-read", Document)
def _read_document(user, document) -> bool:
    SEEN.append(user)
    return user is not None


@RULES.rule("mutants-sign", Invoice)
def _sign_invoice(user, invoice) -> list:
    return ["truthy, not a bool"] if user is not None else []


@RULES.rule("mutants-export")
def _export(user, _obj) -> bool:
    return user is not None


access.register(RULES)


def test_a_rule_applies_to_subclasses_and_only_to_its_own_class_tree():
    user = person()
    assert access.can(user, "mutants-read", Document()) is True
    assert access.can(user, "mutants-read", Invoice()) is True  # found through the class's __mro__
    assert access.can(user, "mutants-read", Unrelated()) is False
    assert access.can(user, "mutants-sign", Document()) is False  # a subclass's rule says nothing of its parent


def test_answers_are_booleans_whatever_the_rule_returns():
    assert access.can(person(), "mutants-sign", Invoice()) is True
    assert access.can(None, "mutants-sign", Invoice()) is False


def test_unknown_questions_answer_no():
    user = person()
    assert access.can(user, "mutants-unknown", Document()) is False
    assert access.can(user, "mutants-unknown") is False
    assert access.can(user, "mutants-read") is False  # a rule on a type is not a rule on "no object"


def test_questions_without_object_use_the_rule_registered_without_type():
    assert access.can(person(), "mutants-export") is True
    assert access.can(None, "mutants-export") is False


@pytest.mark.parametrize("anonymous", [None, User(email="x@example.fr", active=False), object()],
                         ids=["none", "deactivated", "no-login-attributes"])
def test_anonymous_or_inactive_users_reach_the_rules_as_none(anonymous):
    SEEN.clear()
    assert access.can(anonymous, "mutants-read", Document()) is False
    assert SEEN == [None]


def test_platform_admins_pass_every_rule_even_unknown_ones():
    admin = person()
    admin.is_platform_admin = True
    assert access.can(admin, "mutants-unknown", Unrelated()) is True
    assert access.can(admin, "mutants-unknown") is True
    inactive_admin = User(email="a@example.fr", active=False, is_platform_admin=True)
    assert access.can(inactive_admin, "mutants-unknown") is False  # a deactivated admin is nobody


def test_get_or_404_hides_missing_and_forbidden_objects_alike():
    document = Document()
    assert access.get_or_404(document, person(), "mutants-read") is document
    with pytest.raises(NotFound):
        access.get_or_404(document, None, "mutants-read")
    with pytest.raises(NotFound):
        access.get_or_404(None, person(), "mutants-read")


def test_get_or_404_asks_view_by_default():
    rules = access.RuleSet()
    rules.rule("view", Unrelated)(lambda user, obj: user is not None)
    access.register(rules)
    thing = Unrelated()
    assert access.get_or_404(thing, person()) is thing
    with pytest.raises(NotFound):
        access.get_or_404(thing, None)


def test_two_rules_for_one_question_are_a_programming_error():
    rules = access.RuleSet()
    rules.rule("mutants-twice", Document)(lambda user, obj: True)
    rules.rule("mutants-twice", Invoice)(lambda user, obj: True)  # another type: a different question
    with pytest.raises(ValueError, match="two rules for 'mutants-twice'"):
        rules.rule("mutants-twice", Document)(lambda user, obj: False)


def test_rules_answer_nothing_until_registered():
    rules = access.RuleSet()
    rules.rule("mutants-late", Document)(lambda user, obj: True)
    assert access.can(person(), "mutants-late", Document()) is False
    access.register(rules)
    assert access.can(person(), "mutants-late", Document()) is True


def test_only_an_explicit_platform_admin_flag_passes_everything():
    """A signed-in identity that says nothing about being a platform admin is not one."""
    from flask_login import UserMixin

    class ApiClient(UserMixin):  # authenticated, with no is_platform_admin attribute
        pass

    assert access.can(ApiClient(), "mutants-unknown") is False
    assert access.can(ApiClient(), "mutants-read", Document()) is True  # yet it is a signed-in user
