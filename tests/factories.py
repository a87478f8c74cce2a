from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from integration_hub.models import Integration, Subscriber, SubscriberOwner, User
from integration_hub.outbound.policy import url_origin

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """UserFactory(roles=["Owner"]) puts the user in those groups (no staff side effects:
        use the roles service where those matter)."""
        if create and extracted:
            self.groups.add(*[Group.objects.get(name=name) for name in extracted])
        if create:
            self.save()


class SubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscriber

    name = factory.Sequence(lambda n: f"Business {n}")


class SubscriberOwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubscriberOwner

    subscriber = factory.SubFactory(SubscriberFactory)
    user = factory.SubFactory(UserFactory)


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    name = factory.Sequence(lambda n: f"Integration {n}")
    kind = Integration.Kind.WEBHOOK
    base_url = "https://partner.example.com/api"
    auth_type = Integration.AuthType.NONE


class AccountingIntegrationFactory(factory.django.DjangoModelFactory):
    """An accounting integration of the default subscriber delivering to an ACCOUNTING
    integration without auth."""

    class Meta:
        model = "accounting.AccountingIntegration"

    # The default subscriber (a transactional test may have flushed it: then a new one).
    subscriber = factory.LazyFunction(
        lambda: Subscriber.objects.order_by("id").first() or SubscriberFactory()
    )
    integration_type = "GENERIC"
    integration = factory.SubFactory(
        IntegrationFactory,
        kind=Integration.Kind.ACCOUNTING,
        base_url="https://books.example.com/api/sales",
    )
    summarize_data = False
    enabled = True


class AccountingMapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounting.AccountingMap"

    accounting_integration = factory.SubFactory(AccountingIntegrationFactory)
    kind = "PAYMENT_METHOD"
    source = factory.Sequence(lambda n: f"METHOD{n}")
    target = factory.Sequence(lambda n: f"1{n:03d}")


class OrganisationKitIntegrationFactory(IntegrationFactory):
    """An enabled ORGANISATION_KIT integration without auth (partner mocked with responses)."""

    kind = Integration.Kind.ORGANISATION_KIT
    base_url = "https://kit.example.com/api/"
    enabled = True


class VerifiedIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "syncing.VerifiedIdentity"
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    kind = "PERSONAL_NUMBER"
    value = "198001011234"
    verified_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def verified_for(identity, create, extracted, **kwargs):
        """Verified by a System Admin for every integration, unless `verified_for` names the
        integration (BankID there) it counts for; `verified_for=()` leaves it unverified
        anywhere (verifications added by the test)."""
        if not create or extracted == ():
            return
        from syncing.models import IdentityVerification

        IdentityVerification.objects.create(
            identity=identity,
            method="BANKID" if extracted is not None else "ADMIN",
            integration=extracted,
            verified_at=identity.verified_at,
        )


class OAuthGrantFactory(factory.django.DjangoModelFactory):
    """A grant an Owner gave through Connect: tokens valid for an hour, for the calls to its
    integration's base URL."""

    class Meta:
        model = "integration_hub.OAuthGrant"

    integration = factory.SubFactory(
        IntegrationFactory,
        kind=Integration.Kind.ACCOUNTING,
        base_url="https://books.example.com/api/sales",
    )
    token_url = "https://identity.books.example.com/connect/token"
    origin = factory.LazyAttribute(lambda grant: url_origin(grant.integration.base_url))
    refresh_token = factory.Sequence(lambda n: f"refresh-token-{n}")
    access_token = factory.Sequence(lambda n: f"access-token-{n}")
    access_token_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))


def connected(accounting_integration, **grant_fields):
    """Give an accounting integration (QuickBooks, Xero, Sage) the grant and tenant Connect
    would have stored, so that it may sync."""
    from accounting.connect import DEFAULTS

    default = DEFAULTS.get(accounting_integration.integration_type)
    if default is not None:
        grant_fields.setdefault("client_auth", default.client_auth)
        grant_fields.setdefault("token_url", default.token_url)
    accounting_integration.grant = OAuthGrantFactory(
        integration=accounting_integration.integration, **grant_fields
    )
    accounting_integration.tenant_id = accounting_integration.tenant_id or "tenant-1"
    accounting_integration.save(update_fields=["grant", "tenant_id"])
    return accounting_integration
