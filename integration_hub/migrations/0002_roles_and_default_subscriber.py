from django.db import migrations

ROLES = ("System Admin", "System Config", "Job Admin", "Owner")


def create_roles_and_default_subscriber(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Subscriber = apps.get_model("integration_hub", "Subscriber")
    SettingsVersion = apps.get_model("integration_hub", "SettingsVersion")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    # The default subscriber is simply the first created: no explicit id, so PostgreSQL's
    # sequence stays right.
    if not Subscriber.objects.exists():
        Subscriber.objects.create(name="Default subscriber")
    if not SettingsVersion.objects.exists():
        SettingsVersion.objects.create(version=0)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("integration_hub", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_roles_and_default_subscriber, migrations.RunPython.noop),
    ]
