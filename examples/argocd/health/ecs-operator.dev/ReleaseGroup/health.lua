-- Argo CD health of an ecs-operator ReleaseGroup, from its kstatus conditions.
-- A status for an older generation is Progressing; Stalled (a release rolled back, failed, or a
-- member stalled) is Degraded; Ready=True (released, or no release yet) is Healthy; anything
-- else is Progressing with the operator's message.
local hs = {}
local function condition(type)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end
local function current(c)
  return c ~= nil and c.status == "True"
    and (c.observedGeneration == nil or c.observedGeneration == obj.metadata.generation)
end

local generation = obj.metadata.generation
if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe the ReleaseGroup"
  return hs
end
if generation ~= nil and obj.status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end
local stalled = condition("Stalled")
if current(stalled) then
  hs.status = "Degraded"
  hs.message = stalled.message or stalled.reason or "Stalled"
  return hs
end
local ready = condition("Ready")
if current(ready) then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end
hs.status = "Progressing"
local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" and reconciling.message ~= nil then
  hs.message = reconciling.message
else
  hs.message = "Waiting for the release to finish"
end
return hs
