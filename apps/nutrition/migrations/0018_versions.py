# Versions for the nutrition rows, and their changes in the change log (fithub.db.change_log):
# custom foods (public ones have no owner), preferences, meals, diary entries, water entries
# and nutrition targets. A portion or a meal item changes its food or meal; a food's name or
# nutrients change the meals that use it (items' food_name, totals) and its name the
# preferences for it (food_name); a preference's flags change the custom food (is_favorite...).

from django.db import migrations, models

from fithub.db.change_log import BackfillChanges, BumpOnChange, TrackChanges

NUTRIENTS = ['energy_kcal', 'protein_g', 'fat_g', 'carbohydrate_g', 'fiber_g', 'sugars_g', 'saturated_fat_g', 'sodium_mg']
TRACKED = [
    ('nutrition_food', 'food'),
    ('nutrition_foodpreference', 'food_preference'),
    ('nutrition_meal', 'meal'),
    ('nutrition_diaryentry', 'diary_entry'),
    ('nutrition_waterentry', 'water_entry'),
    ('goals_nutritiontarget', 'nutrition_target'),
]


class Migration(migrations.Migration):

    dependencies = [
        ('nutrition', '0017_recent_food'),
        ('users', '0008_versions'),
        ('fithub', '0003_change_log'),
    ]

    operations = [
        migrations.AddField(
            model_name='diaryentry',
            name='version',
            field=models.PositiveIntegerField(db_default=1, default=1, editable=False, help_text='1 when created, one more on every change.'),
        ),
        migrations.AddField(
            model_name='food',
            name='version',
            field=models.PositiveIntegerField(db_default=1, default=1, editable=False, help_text='1 when created, one more on every change.'),
        ),
        migrations.AddField(
            model_name='foodpreference',
            name='version',
            field=models.PositiveIntegerField(db_default=1, default=1, editable=False, help_text='1 when created, one more on every change.'),
        ),
        migrations.AddField(
            model_name='meal',
            name='version',
            field=models.PositiveIntegerField(db_default=1, default=1, editable=False, help_text='1 when created, one more on every change.'),
        ),
        migrations.AddField(
            model_name='nutritiontarget',
            name='version',
            field=models.PositiveIntegerField(db_default=1, default=1, editable=False, help_text='1 when created, one more on every change.'),
        ),
        migrations.AddField(
            model_name='waterentry',
            name='version',
            field=models.PositiveIntegerField(db_default=1, default=1, editable=False, help_text='1 when created, one more on every change.'),
        ),
        *[TrackChanges(table=table, type=type) for table, type in TRACKED],
        BumpOnChange(name='portion_food', table='nutrition_foodportion', target='nutrition_food', column='food_id'),
        BumpOnChange(name='item_meal', table='nutrition_mealitem', target='nutrition_meal', column='meal_id'),
        BumpOnChange(
            name='food_meals',
            table='nutrition_food',
            target='nutrition_meal',
            via=('nutrition_mealitem', 'meal_id', 'food_id'),
            columns=['name', *NUTRIENTS],
        ),
        BumpOnChange(
            name='food_preferences',
            table='nutrition_food',
            target='nutrition_foodpreference',
            via=('nutrition_foodpreference', 'id', 'food_id'),
            columns=['name'],
        ),
        BumpOnChange(
            name='preference_food',
            table='nutrition_foodpreference',
            target='nutrition_food',
            column='food_id',
            columns=['food_id', 'favorite', 'dislike', 'allergy'],
            target_filter='user_id IS NOT NULL',
        ),
        *[BackfillChanges(table=table, type=type) for table, type in TRACKED],
    ]
