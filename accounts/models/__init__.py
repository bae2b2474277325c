"""Account models; import them from here."""

from .account import Account, generate_account_number
from .api_key import ApiKey
from .contact import AccountContact
from .handoff import HandoffToken
from .invitation import AlreadyInvited, Invitation
from .ownership import MetaDataWithOwnershipModel
from .sent_mail import SentMail
from .usage import DailyActiveMember, DailyUsage
from .user_profile import (
    SmarterBaseModelManager,
    SmarterBaseQuerySetWithPermissions,
    UserProfile,
)

__all__ = [
    "Account",
    "ApiKey",
    "AccountContact",
    "AlreadyInvited",
    "DailyActiveMember",
    "DailyUsage",
    "HandoffToken",
    "Invitation",
    "MetaDataWithOwnershipModel",
    "SentMail",
    "SmarterBaseModelManager",
    "SmarterBaseQuerySetWithPermissions",
    "UserProfile",
    "generate_account_number",
]
