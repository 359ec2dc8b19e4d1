"""Entity synonyms that respect the entity type: "中文" is `zh` as a language, "中文" as a topic.

Rasa's EntitySynonymMapper maps a value whatever its entity, so a synonym
中文 → zh (for `set_language`) would also turn the topic of "我想学中文" into "zh",
which search cannot use. This mapper applies a synonym only when its target is one of
the normalised values allowed for that entity (configured per entity in `config.yml`);
entities without a list (topic) keep the words the citizen used. A typed entity whose
value maps to none of its allowed values ("settings" as a schedule) is dropped: the
actions could not use it, and a wrong filter is worse than none.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.entity_synonyms import EntitySynonymMapper


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class TypedEntitySynonymMapper(EntitySynonymMapper):
    """EntitySynonymMapper restricted to each entity's normalised values."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """`normalised_values`: entity name → the values a synonym may map it to."""
        return {"normalised_values": {}}

    def replace_synonyms(self, entities: list[dict[str, Any]]) -> None:
        """Normalise each typed entity through its synonyms; drop values that map to none."""
        allowed = {
            name: {str(value).lower(): str(value) for value in values}
            for name, values in (self._config or {}).get("normalised_values", {}).items()
        }
        kept = []
        for entity in entities:
            values = allowed.get(entity.get("entity"))
            if values is None:
                kept.append(entity)
                continue
            spoken = str(entity["value"]).lower().strip()
            target = self.synonyms.get(spoken)
            if target is not None and target.lower() in values:
                entity["value"] = values[target.lower()]
                self.add_processor_name(entity)
                kept.append(entity)
            elif spoken in values:
                entity["value"] = values[spoken]
                kept.append(entity)
            # Anything else ("settings" as a schedule) is a guess the actions cannot use.
        entities[:] = kept
