"""Basket numbers come from a counter per distribution (pickup_points.locks.basket_book) instead of the
largest number given so far: each counter starts where its distribution's numbers are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('pickup_points', '0005_slot_capacity_named_households_per_slot'),
    ]

    operations = [
        migrations.CreateModel(
            name='BasketCounter',
            fields=[
                ('distribution', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='basket_counter', serialize=False, to='pickup_points.distribution')),
                ('last', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'compteur de paniers',
                'verbose_name_plural': 'compteurs de paniers',
            },
        ),
        migrations.RunSQL(
            sql="""
                INSERT INTO pickup_points_basketcounter (distribution_id, last)
                SELECT distribution_id, MAX(basket_number) FROM pickup_points_slotbooking
                GROUP BY distribution_id
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
