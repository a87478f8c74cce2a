from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person or service account that signs in to the hub (username and password)."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
