# The listings (where each shared product has a copy) in a migration of their own: no tenant app depends on
# it, so the shared app's last migration stays one that a tenant schema may record late (test_tenancy).

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0014_shared_catalogue'),
    ]

    operations = [
        migrations.CreateModel(
            name='SharedListing',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('product_id', models.PositiveIntegerField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('collective', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='shared_listings', to='marketplace.collective')),
                ('shared_product', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='listings', to='marketplace.sharedproduct')),
            ],
            options={
                'ordering': ['collective__name'],
            },
        ),
        migrations.AddConstraint(
            model_name='sharedlisting',
            constraint=models.UniqueConstraint(fields=('shared_product', 'collective'), name='shared_listing_once'),
        ),
    ]
