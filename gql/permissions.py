"""Permissions declared next to each field: who may call it, checked before it resolves.

A missing or refused token is UNAUTHENTICATED; a signed-in user without the right role is
FORBIDDEN. Both are GraphQL errors with ``extensions.code``; a user's input mistakes are not.
Use the lists at the bottom: ``permission_classes=APPLICANT`` and so on.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission

from gql.context import Info
from gql.errors import GraphQLErrorCode, extensions_for
from models.accounts import StaffRole


class IsAuthenticated(BasePermission):
    message = "请先登录。"
    error_extensions = extensions_for(GraphQLErrorCode.UNAUTHENTICATED)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal is not None


class IsApplicant(BasePermission):
    message = "仅申请人可以执行此操作。"
    error_extensions = extensions_for(GraphQLErrorCode.FORBIDDEN)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        return principal is not None and principal.is_applicant


class _HasRole(BasePermission):
    roles: ClassVar[tuple[StaffRole, ...]] = ()
    message = "没有权限执行此操作。"
    error_extensions = extensions_for(GraphQLErrorCode.FORBIDDEN)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        return principal is not None and principal.is_staff and principal.role in self.roles


class IsStaff(_HasRole):
    message = "仅会计管理部门工作人员可以执行此操作。"
    roles = tuple(StaffRole)


class IsReviewer(_HasRole):
    message = "仅审核人员可以执行此操作。"
    roles = (StaffRole.REVIEWER, StaffRole.PROVINCE)


class SeesStatistics(_HasRole):
    message = "没有查看统计的权限。"
    roles = (StaffRole.DASHBOARD, StaffRole.PROVINCE, StaffRole.REVIEWER)


class IsProvince(_HasRole):
    message = "仅省级管理部门可以执行此操作。"
    roles = (StaffRole.PROVINCE,)


SIGNED_IN: list[type[BasePermission]] = [IsAuthenticated]
APPLICANT: list[type[BasePermission]] = [IsAuthenticated, IsApplicant]
STAFF: list[type[BasePermission]] = [IsAuthenticated, IsStaff]
REVIEWER: list[type[BasePermission]] = [IsAuthenticated, IsReviewer]
STATISTICS: list[type[BasePermission]] = [IsAuthenticated, SeesStatistics]
PROVINCE: list[type[BasePermission]] = [IsAuthenticated, IsProvince]
