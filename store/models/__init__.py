"""All Resonanz tables. Importing this package registers them on ``SQLModel.metadata``."""

from store.models.crm import (
    Customer,
    CustomerBase,
    CustomerValue,
    ErasedKey,
    IdentityLink,
    IdentityLinkBase,
    LoyaltyEvent,
    Order,
    OrderBase,
)
from store.models.review import (
    Digest,
    LabelFeedback,
    ReviewEvent,
    ReviewItem,
    ReviewItemBase,
    User,
)
from store.models.social import (
    BrandMarker,
    CollectorRun,
    Post,
    PostBase,
    Score,
    SocialIdentity,
    SocialIdentityBase,
    Source,
    SourceBase,
)

__all__ = [
    "BrandMarker",
    "CollectorRun",
    "Customer",
    "CustomerBase",
    "CustomerValue",
    "ErasedKey",
    "Digest",
    "IdentityLink",
    "IdentityLinkBase",
    "LabelFeedback",
    "LoyaltyEvent",
    "Order",
    "OrderBase",
    "Post",
    "PostBase",
    "ReviewEvent",
    "ReviewItem",
    "ReviewItemBase",
    "Score",
    "SocialIdentity",
    "SocialIdentityBase",
    "Source",
    "SourceBase",
    "User",
]
