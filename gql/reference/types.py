"""Reference data as GraphQL types: code-list options, divisions and departments."""

from __future__ import annotations

from enum import Enum

import strawberry

from models import reference as ref

#: the values of the `Gender` enum the gender input takes, and their code in the gender list
GENDER_INPUT_VALUES = {"MALE": "1", "FEMALE": "2"}


@strawberry.type(description="One entry of a code list: the code to send, the name to show.")
class Option:
    code: str
    name: str

    @classmethod
    def of(cls, option: ref.Option) -> Option:
        return cls(code=option.code, name=option.name)


@strawberry.type(description="A 会计管理部门 (finance bureau); its code is its division's code.")
class Department:
    code: str
    name: str

    @classmethod
    def of(cls, department: ref.Department) -> Department:
        return cls(code=department.code, name=department.name)


@strawberry.enum
class DivisionLevel(Enum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


@strawberry.type(description="An administrative division of Zhejiang (GB/T 2260).")
class Division:
    code: str
    name: str
    level: DivisionLevel
    parent_code: str | None
    postal_code: str | None = strawberry.field(
        description="Default postal code of the county seat; null where sources disagree"
    )
    department: Department

    @classmethod
    def of(cls, division: ref.Division) -> Division:
        return cls(
            code=division.code,
            name=division.name,
            level=DivisionLevel(division.level),
            parent_code=division.parent_code,
            postal_code=division.postal_code,
            department=Department.of(division.department),
        )


@strawberry.type(description="Every code list of the registration form, one list per coded field.")
class FormOptions:
    id_types: list[Option]
    countries_or_regions: list[Option]
    ethnic_groups: list[Option]
    political_statuses: list[Option]
    economic_types: list[Option]
    accounting_posts: list[Option]
    administrative_titles: list[Option]
    education_levels: list[Option]
    degrees: list[Option]
    qualification_levels: list[Option]
    qualification_types: list[Option]
    acquisition_methods: list[Option]
    appointed_posts: list[Option]
    genders: list[Option]

    @classmethod
    def build(cls, data: ref.ReferenceData) -> FormOptions:
        lists = {
            field: [Option.of(o) for o in data.options(list_name)]
            for field, list_name in ref.FORM_OPTION_LISTS.items()
        }
        return cls(
            id_types=lists["idTypes"],
            countries_or_regions=lists["countriesOrRegions"],
            ethnic_groups=lists["ethnicGroups"],
            political_statuses=lists["politicalStatuses"],
            economic_types=lists["economicTypes"],
            accounting_posts=lists["accountingPosts"],
            administrative_titles=lists["administrativeTitles"],
            education_levels=lists["educationLevels"],
            degrees=lists["degrees"],
            qualification_levels=lists["qualificationLevels"],
            qualification_types=lists["qualificationTypes"],
            acquisition_methods=lists["acquisitionMethods"],
            appointed_posts=lists["appointedPosts"],
            # exactly what the gender input takes: the enum's names, with their Chinese labels
            genders=[
                Option(code=value, name=data.name_of("gender", code) or value)
                for value, code in GENDER_INPUT_VALUES.items()
            ],
        )
