# An explicit through model for the staff of a point (DO_NOTHING towards accounts, which live in the
# public schema), keeping the existing assignments; bookings point at accounts with DO_NOTHING too.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def copy_assignments(apps, schema_editor):
    PickupPoint = apps.get_model("pickup_points", "PickupPoint")
    PointStaff = apps.get_model("pickup_points", "PointStaff")
    PointStaff.objects.bulk_create(
        PointStaff(point_id=row.pickuppoint_id, user_id=row.user_id)
        for row in PickupPoint.staff.through.objects.all()
    )


class Migration(migrations.Migration):

    dependencies = [
        ('pickup_points', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='slotbooking',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='foyer'),
        ),
        migrations.CreateModel(
            name='PointStaff',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('assigned_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('point', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='staff_links', to='pickup_points.pickuppoint')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.AddConstraint(
            model_name='pointstaff',
            constraint=models.UniqueConstraint(fields=('point', 'user'), name='point_staff_once'),
        ),
        migrations.RunPython(copy_assignments, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='pickuppoint',
            name='staff',
        ),
        migrations.AddField(
            model_name='pickuppoint',
            name='staff',
            field=models.ManyToManyField(blank=True, related_name='staffed_pickup_points', through='pickup_points.PointStaff', to=settings.AUTH_USER_MODEL, verbose_name='équipe'),
        ),
    ]
