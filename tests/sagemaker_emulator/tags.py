"""AddTags, DeleteTags, ListTags."""

from __future__ import annotations

import copy

from .records import Json
from .store import StoreState


class TagOperations(StoreState):
    # --- tags --------------------------------------------------------------------------------

    def _tagged(self, arn: str) -> dict[str, str]:
        tags = self.tags.get(arn)
        if tags is None:
            # *Unverified* wording for tagging a resource that does not exist.
            raise self.messages.rule("resource-not-found", arn=arn)
        return tags

    def add_tags(self, params: Json) -> Json:
        arn = params["ResourceArn"]
        self._tagged(arn)
        self.tags[arn] = self._new_tags(arn, params["Tags"])
        return {"Tags": copy.deepcopy(params["Tags"])}

    def delete_tags(self, params: Json) -> Json:
        tags = self._tagged(params["ResourceArn"])
        for key in params["TagKeys"]:
            tags.pop(key, None)
        return {}

    def list_tags(self, params: Json) -> Json:
        tags = self._tagged(params["ResourceArn"])
        items = [{"Key": k, "Value": v} for k, v in tags.items()]
        return self._page(items, {**params, "MaxResults": params.get("MaxResults", 50)}, "Tags")
