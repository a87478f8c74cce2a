"""The queue tables' created_at is not indexed: nothing looks records up by it, and every
captured save and every move paid for the index."""


from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('datasync', '0003_lanes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='customerpendingrecord',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AlterField(
            model_name='progressrecord',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AlterField(
            model_name='transactionpendingrecord',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True),
        ),
    ]
