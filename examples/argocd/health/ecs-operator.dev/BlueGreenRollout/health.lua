-- Argo CD health of an ecs-operator BlueGreenRollout, from status.phase and its conditions.
-- A status for an older generation is Progressing; Stalled or phase Degraded is Degraded;
-- phase Paused (waiting for promote or a gate) is Suspended; phase Healthy with Ready=True is
-- Healthy; anything else is Progressing.
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
local function message(default)
  if obj.status.message ~= nil and obj.status.message ~= "" then
    return obj.status.message
  end
  return default
end

local generation = obj.metadata.generation
if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe the BlueGreenRollout"
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
local phase = obj.status.phase
if phase == "Degraded" then
  hs.status = "Degraded"
  hs.message = message("The last release failed or was aborted")
  return hs
end
if phase == "Paused" then
  hs.status = "Suspended"
  hs.message = message("Paused: waiting for promotion")
  return hs
end
if phase == "Healthy" and current(condition("Ready")) then
  hs.status = "Healthy"
  hs.message = message("Healthy")
  return hs
end
hs.status = "Progressing"
hs.message = message("Rolling out")
return hs
