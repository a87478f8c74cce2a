"""A cached OAuth token is bound to the origin of the API it was fetched for (DESIGN.md,
"Roles"). Tokens cached before were bound to nothing: they are dropped and fetched again."""

from django.db import migrations, models


def cached_tokens_drop(apps, schema_editor):
    apps.get_model("integration_hub", "OAuthToken").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("integration_hub", "0005_order_id_unique_per_subscriber")]

    operations = [
        migrations.RunPython(cached_tokens_drop, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="oauthtoken", name="oauth_token_unique"),
        migrations.AddField(
            model_name="oauthtoken",
            name="origin",
            field=models.CharField(max_length=300, default=""),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="oauthtoken",
            constraint=models.UniqueConstraint(
                fields=("credential", "token_url", "origin"), name="oauth_token_unique"
            ),
        ),
    ]
